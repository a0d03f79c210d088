# Build: docker build -t organizer .   Run: see docker-compose.yml
FROM rust:1.95-bookworm AS build
WORKDIR /src
COPY . .
RUN cargo build --release --locked && cp target/release/organizer /organizer

FROM debian:bookworm-slim
RUN apt-get update && apt-get install -y --no-install-recommends ca-certificates curl \
    && rm -rf /var/lib/apt/lists/* \
    && useradd --system --create-home --home-dir /var/lib/organizer organizer
COPY --from=build /organizer /usr/local/bin/organizer
USER organizer
WORKDIR /var/lib/organizer
ENV BIND=0.0.0.0:8000 DATA_DIR=/var/lib/organizer/data
EXPOSE 8000
HEALTHCHECK --interval=10s --timeout=3s CMD ["curl", "-fsS", "http://127.0.0.1:8000/health"]
ENTRYPOINT ["organizer"]
CMD ["serve"]
