// A small preview server that behaves like the Organizer server will once it embeds
// web/dist: index.html for / and client routes, graphiql.html for GET /graphql,
// /assets/* immutable, the CSP header on every page, and /graphql (HTTP and
// WebSocket), /files/* and /export proxied to a running API (ORGANIZER_API, default
// http://127.0.0.1:8000).
//   node e2e/serve.mjs            # listens on PORT (default 4173)
import { createServer, request as httpRequest } from 'node:http';
import { connect } from 'node:net';
import { readFile, stat } from 'node:fs/promises';
import { extname, join, normalize, resolve, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { CSP } from '../csp.mjs';

const dist = resolve(dirname(fileURLToPath(import.meta.url)), '../dist');
const api = new URL(process.env.ORGANIZER_API ?? 'http://127.0.0.1:8000');
const port = Number(process.env.PORT ?? 4173);
const host = process.env.HOST ?? '127.0.0.1';

const TYPES = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.woff2': 'font/woff2',
  '.woff': 'font/woff',
  '.ttf': 'font/ttf',
  '.json': 'application/json',
};

const SECURITY = {
  'Content-Security-Policy': CSP,
  'X-Content-Type-Options': 'nosniff',
  'Referrer-Policy': 'no-referrer',
};

async function sendFile(res, file, cache) {
  const body = await readFile(file);
  res.writeHead(200, { 'Content-Type': TYPES[extname(file)] ?? 'application/octet-stream', 'Cache-Control': cache, ...SECURITY });
  res.end(body);
}

function proxy(req, res) {
  const upstream = httpRequest(
    { host: api.hostname, port: api.port || 80, method: req.method, path: req.url, headers: { ...req.headers, host: api.host } },
    (up) => {
      res.writeHead(up.statusCode ?? 502, up.headers);
      up.pipe(res);
    },
  );
  upstream.on('error', () => {
    if (!res.headersSent) res.writeHead(502, { 'Content-Type': 'text/plain' });
    res.end('upstream unavailable');
  });
  req.pipe(upstream);
}

const server = createServer(async (req, res) => {
  try {
    const url = new URL(req.url ?? '/', 'http://x');
    const path = url.pathname;
    if (path === '/graphql' || path.startsWith('/graphql/')) {
      if (req.method === 'GET' && path === '/graphql' && !url.searchParams.has('query')) {
        return await sendFile(res, join(dist, 'graphiql.html'), 'no-cache');
      }
      return proxy(req, res);
    }
    if (path === '/health' || path === '/ready') return proxy(req, res);
    // Signed file links (/files/<path>, /files/ for the whole space) and account exports are
    // the server's; `/files` alone is the app's page.
    if (path.startsWith('/files/') || path === '/export') return proxy(req, res);
    if (path.startsWith('/assets/')) {
      const file = normalize(join(dist, path));
      if (!file.startsWith(join(dist, 'assets'))) {
        res.writeHead(400);
        return res.end();
      }
      try {
        await stat(file);
      } catch {
        res.writeHead(404, { 'Content-Type': 'text/plain' });
        return res.end('not found');
      }
      return await sendFile(res, file, 'public, max-age=31536000, immutable');
    }
    // Every other path is a client route: the app's index.html.
    return await sendFile(res, join(dist, 'index.html'), 'no-cache');
  } catch (e) {
    res.writeHead(500, { 'Content-Type': 'text/plain' });
    res.end(String(e));
  }
});

// WebSocket upgrade for /graphql/ws: a raw TCP tunnel to the API.
server.on('upgrade', (req, socket, head) => {
  if (!req.url?.startsWith('/graphql/ws')) return socket.destroy();
  const upstream = connect(Number(api.port || 80), api.hostname, () => {
    const lines = [`${req.method} ${req.url} HTTP/1.1`];
    for (let i = 0; i < req.rawHeaders.length; i += 2) {
      const name = req.rawHeaders[i];
      lines.push(`${name}: ${name.toLowerCase() === 'host' ? api.host : req.rawHeaders[i + 1]}`);
    }
    upstream.write(`${lines.join('\r\n')}\r\n\r\n`);
    if (head?.length) upstream.write(head);
    upstream.pipe(socket);
    socket.pipe(upstream);
  });
  upstream.on('error', () => socket.destroy());
  socket.on('error', () => upstream.destroy());
});

server.listen(port, host, () => {
  console.log(`Organizer web preview on http://${host}:${port} (API: ${api.origin})`);
});
