/// <reference types="vitest/config" />
import { resolve } from 'node:path';
import { defineConfig } from 'vite';
import react from '@vitejs/plugin-react';
import { CSP } from './csp.mjs';

// Where `npm run dev` proxies the API (a local Organizer server by default).
const api = process.env.ORGANIZER_API ?? 'http://127.0.0.1:8000';

export default defineConfig({
  plugins: [react()],
  base: '/',
  build: {
    outDir: 'dist',
    assetsDir: 'assets',
    emptyOutDir: true,
    sourcemap: false,
    // GraphiQL's chunk (~1 MB raw) loads only on graphiql.html.
    chunkSizeWarningLimit: 1100,
    // No inline data: scripts; small assets may be inlined (allowed by img-src/font-src data:).
    modulePreload: { polyfill: false },
    rolldownOptions: {
      input: {
        app: resolve(import.meta.dirname, 'index.html'),
        graphiql: resolve(import.meta.dirname, 'graphiql.html'),
      },
    },
  },
  server: {
    headers: { 'Content-Security-Policy': CSP.replace("script-src 'self'", "script-src 'self' 'unsafe-inline'") },
    proxy: {
      '/graphql/ws': { target: api.replace(/^http/, 'ws'), ws: true },
      // Signed file links and account exports (`/files` alone is the app's page).
      '/files/': { target: api },
      '^/export$|^/export\\?': { target: api },
      '/graphql': { target: api, bypass: (req) => (req.method === 'GET' && req.headers.accept?.includes('text/html') ? '/graphiql.html' : undefined) },
    },
  },
  test: {
    include: ['src/**/*.test.ts'],
    environment: 'node',
  },
});
