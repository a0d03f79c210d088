// The Content-Security-Policy the Organizer server sends; the preview server and the
// e2e tests use the same string so the app is always tested under it.
// connect-src is 'self' alone: under CSP Level 3 it also allows ws:/wss: to the page's
// own host and port (Chromium, Firefox, Safari 15.4+), which is all the app and GraphiQL
// open (/graphql/ws on the same origin); `ws: wss:` would allow a socket to any host.
export const CSP = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self' 'unsafe-inline'",
  "img-src 'self' data: blob:",
  "font-src 'self' data:",
  "connect-src 'self'",
  "worker-src 'self' blob:",
  "object-src 'none'",
  "base-uri 'self'",
  "frame-ancestors 'none'",
].join('; ');
