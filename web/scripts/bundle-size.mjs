// Measures the JavaScript a page loads before its first screen: the entry script of
// dist/<page>.html plus every chunk it imports statically (followed recursively),
// gzip-compressed. Fails when the app's first screen is over the budget.
import { readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';

const dist = resolve(dirname(fileURLToPath(import.meta.url)), '../dist');
const BUDGET = 300 * 1024;

function staticImports(code) {
  const out = new Set();
  // import"./x.js", import{a}from"./x.js", export*from"./x.js" (not dynamic import("./x.js"))
  const re = /(?:^|[;\s}])(?:import|export)\s*(?:[\w*{}\s,$]*?from\s*)?["'](\.{1,2}\/[^"']+\.js|\/assets\/[^"']+\.js)["']/g;
  for (const m of code.matchAll(re)) out.add(m[1]);
  return out;
}

function measure(page) {
  const html = readFileSync(join(dist, page), 'utf8');
  const entries = [...html.matchAll(/<script[^>]+src="([^"]+)"/g)].map((m) => m[1]);
  const seen = new Set();
  const queue = entries.map((src) => join(dist, src));
  let raw = 0;
  let gz = 0;
  while (queue.length) {
    const file = queue.shift();
    if (seen.has(file)) continue;
    seen.add(file);
    const code = readFileSync(file);
    raw += code.length;
    gz += gzipSync(code, { level: 9 }).length;
    for (const spec of staticImports(code.toString('utf8'))) {
      queue.push(spec.startsWith('/') ? join(dist, spec) : resolve(dirname(file), spec));
    }
  }
  const css = [...html.matchAll(/<link[^>]+rel="stylesheet"[^>]+href="([^"]+)"/g)].map((m) => readFileSync(join(dist, m[1])));
  const cssGz = css.reduce((n, c) => n + gzipSync(c, { level: 9 }).length, 0);
  return { page, files: seen.size, raw, gz, cssGz };
}

const kb = (n) => `${(n / 1024).toFixed(1)} KiB`;
let failed = false;
for (const page of ['index.html', 'graphiql.html']) {
  const r = measure(page);
  console.log(`${r.page}: ${r.files} JS files, ${kb(r.raw)} raw, ${kb(r.gz)} gzip (+ CSS ${kb(r.cssGz)} gzip)`);
  if (page === 'index.html' && r.gz > BUDGET) {
    console.error(`index.html loads ${kb(r.gz)} of gzip JavaScript; the budget is ${kb(BUDGET)}`);
    failed = true;
  }
}
process.exit(failed ? 1 : 0);
