# Build: docker build -t organizer .   Run: see docker-compose.yml
# The web app is built with Node, then embedded into the binary by build.rs.
FROM node:20-bookworm AS web
WORKDIR /src
COPY schema.graphql ./
COPY web/package.json web/package-lock.json web/
WORKDIR /src/web
RUN npm ci --no-audit --no-fund
COPY web/ ./
RUN npm run build

FROM rust:1.95-bookworm AS build
WORKDIR /src
COPY . .
COPY --from=web /src/web/dist web/dist
# The s3 feature: the compose file keeps users' files in an S3-compatible store.
RUN cargo build --release --locked --features s3 && cp target/release/organizer /organizer

FROM debian:bookworm-slim
# Security updates of the base packages should arrive with each rebuild: not pinned.
# hadolint ignore=DL3008
RUN apt-get update && apt-get install -y --no-install-recommends ca-certificates curl \
    && rm -rf /var/lib/apt/lists/* \
    && useradd --system --create-home --home-dir /var/lib/organizer organizer \
    && mkdir -p /var/lib/organizer/data \
    && chown organizer:organizer /var/lib/organizer/data \
    && chmod 700 /var/lib/organizer/data
COPY --from=build /organizer /usr/local/bin/organizer
USER organizer
WORKDIR /var/lib/organizer
ENV BIND=0.0.0.0:8000 DATA_DIR=/var/lib/organizer/data
# The data volume's mount point exists and belongs to `organizer`, so a new named volume
# mounted there is writable by it.
VOLUME ["/var/lib/organizer/data"]
EXPOSE 8000
HEALTHCHECK --interval=10s --timeout=3s CMD ["curl", "-fsS", "http://127.0.0.1:8000/health"]
ENTRYPOINT ["organizer"]
CMD ["serve"]
