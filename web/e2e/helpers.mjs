// Helpers for the end-to-end tests: a browser, screenshots, and DOM shortcuts.
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { randomBytes } from 'node:crypto';
import puppeteer from 'puppeteer-core';

export const BASE = (process.env.E2E_BASE_URL ?? 'http://127.0.0.1:8000').replace(/\/$/, '');
export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
export const SHOTS = resolve(dirname(fileURLToPath(import.meta.url)), '../../docs/screenshots');
export const WIDE = { width: 1280, height: 800 };
// Not isMobile/hasTouch: changing those makes puppeteer reload the page, which would lose its state.
export const NARROW = { width: 390, height: 844, deviceScaleFactor: 1 };
export const PASSWORD = 'correct horse battery staple 42';

export async function launch() {
  const browser = await puppeteer.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: ['--no-sandbox', '--disable-dev-shm-usage'],
    protocolTimeout: 60_000,
  });
  const { page, problems } = await newPage(browser);
  return { browser, page, problems };
}

function describeThrown(e) {
  try {
    return `${e?.name ?? typeof e} ${JSON.stringify(e, Object.getOwnPropertyNames(e ?? {}))}`;
  } catch {
    return String(e);
  }
}

/**
 * A new tab at laptop width; CSP reports and page errors are collected in `problems`.
 * `browser` may be a browser context (its own cookies and storage: another person).
 */
export async function newPage(browser) {
  const page = await browser.newPage();
  await page.setViewport(WIDE);
  page.setDefaultTimeout(20_000);
  page.setDefaultNavigationTimeout(30_000);
  const problems = [];
  page.on('console', (m) => {
    const text = m.text();
    if (/Content.Security.Policy|Refused to/i.test(text)) problems.push(`CSP: ${text}`);
  });
  // A thrown non-Error (puppeteer says "Object") is shown by its own fields.
  page.on('pageerror', (e) => problems.push(`page error: ${e?.message && e.message !== 'Object' ? e.message : describeThrown(e)}`));
  return { page, problems };
}

/**
 * Screenshots of the current page at laptop and phone width; `scrollTo`: a selector of
 * what to show, scrolled to the middle of the view at each width.
 */
export async function shoot(page, name, { scrollTo } = {}) {
  mkdirSync(SHOTS, { recursive: true });
  await page.bringToFront();
  const show = async () => {
    if (scrollTo) await page.$eval(scrollTo, (el) => el.scrollIntoView({ block: 'center', behavior: 'instant' }));
    await settle(page);
  };
  await show();
  await page.screenshot({ path: join(SHOTS, `${name}-wide.png`) });
  await page.setViewport(NARROW);
  await show();
  await page.screenshot({ path: join(SHOTS, `${name}-narrow.png`) });
  await page.setViewport(WIDE);
  await settle(page);
}

/** A screenshot of a failing step, outside the repository; returns its path (or null). */
export async function failureShot(page, name) {
  if (!page || page.isClosed()) return null;
  try {
    const dir = join(tmpdir(), 'organizer-e2e-failures');
    mkdirSync(dir, { recursive: true });
    const file = join(dir, `${Date.now()}-${name.replace(/[^a-z0-9]+/gi, '-')}.png`);
    await page.screenshot({ path: file, fullPage: true });
    return file;
  } catch {
    return null;
  }
}

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** Lets layout and transitions settle (a frame, or at most a second for a hidden tab). */
async function settle(page) {
  await sleep(350);
  await page.evaluate(() => new Promise((r) => {
    requestAnimationFrame(() => r(null));
    setTimeout(() => r(null), 1000);
  }));
}

/** Clicks the button (or link) whose visible text is exactly `text`. */
export async function click(page, text, { within = 'body', tag = 'button, a' } = {}) {
  const handle = await page.waitForFunction(
    (text, within, tag) => {
      const root = document.querySelector(within);
      if (!root) return null;
      return [...root.querySelectorAll(tag)].find((el) => el.textContent.trim() === text && !el.disabled && el.offsetParent !== null) ?? null;
    },
    {},
    text,
    within,
    tag,
  );
  const el = handle.asElement();
  // Wait until it stops moving (content loading above it shifts it), then click.
  let box = null;
  for (let i = 0; i < 20; i++) {
    const next = await el.boundingBox();
    if (box && next && box.x === next.x && box.y === next.y && box.width === next.width) break;
    box = next;
    await sleep(100);
  }
  await el.click();
}

/** Clicks the confirm button of the open dialog and returns the dialog's text. */
export async function confirmDialog(page, label) {
  await page.waitForSelector('dialog[open]');
  const text = await page.$eval('dialog[open] .dialog-body', (el) => el.textContent.trim());
  await click(page, label, { within: 'dialog[open]' });
  await page.waitForFunction(() => !document.querySelector('dialog[open]'));
  return text;
}

export async function typeInto(page, selector, value) {
  await page.waitForSelector(selector);
  await page.$eval(selector, (el) => {
    el.focus();
    el.select?.();
  });
  await page.keyboard.press('Backspace');
  await page.type(selector, value);
}

export async function waitForText(page, text, timeout = 20_000) {
  await page.waitForFunction((t) => document.body.innerText.includes(t), { timeout }, text);
}

/** The operation id of the page we are on (/operations/:id). */
export async function currentOperationId(page, notId) {
  await page.waitForFunction(
    (notId) => /^\/operations\/[^/]+$/.test(location.pathname) && !location.pathname.endsWith(`/${notId}`),
    {},
    notId ?? '__none__',
  );
  return page.evaluate(() => location.pathname.split('/').pop());
}

/** Waits until the operation page shows the given status (the header badge). */
export async function waitForStatus(page, status, timeout = 60_000) {
  await page.waitForFunction((s) => document.querySelector('h1 .badge')?.textContent?.trim() === s, { timeout }, status);
}

/**
 * A small folder with mixed files; two files have a byte-identical copy elsewhere.
 * Returns its path (the folder "trip" inside a fresh temporary directory).
 */
const MODIFIED = new Date('2021-06-15T10:30:00Z');

export function makeFolder() {
  const base = mkdtempSync(join(tmpdir(), 'organizer-e2e-'));
  const root = join(base, 'trip');
  const jpeg = Buffer.concat([Buffer.from([0xff, 0xd8, 0xff, 0xe0]), randomBytes(3000)]);
  const png = Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), randomBytes(2000)]);
  const pdf = Buffer.concat([Buffer.from('%PDF-1.4\n'), randomBytes(5000)]);
  const files = {
    'photos/beach.jpg': jpeg,
    'photos/sunset.png': png,
    'photos/copies/beach (copy).jpg': jpeg,
    'docs/itinerary.pdf': pdf,
    'docs/notes.txt': Buffer.from('Pack sunscreen.\nBook the ferry.\n'),
    'docs/old/itinerary-backup.pdf': pdf,
    'music/theme.mp3': Buffer.concat([Buffer.from('ID3'), randomBytes(4000)]),
    'budget.csv': Buffer.from('item,cost\nferry,40\nhotel,320\n'),
  };
  for (const [rel, content] of Object.entries(files)) {
    const file = join(root, rel);
    mkdirSync(dirname(file), { recursive: true });
    writeFileSync(file, content);
    utimesSync(file, MODIFIED, MODIFIED); // uploads carry each file's own modified time
  }
  return { root, files: Object.keys(files), duplicates: 2, modified: MODIFIED };
}

/**
 * Runs `action` (a click that should start a download) and waits for the browser's
 * download: it is saved in a temporary folder; returns { url, suggestedFilename, path }.
 * (A download started by a link with `download` is the browser's, not the page's: no
 * page request event shows it.)
 */
export async function downloadOf(browser, action, timeout = 30_000) {
  const dir = mkdtempSync(join(tmpdir(), 'organizer-e2e-download-'));
  const cdp = await browser.target().createCDPSession();
  try {
    await cdp.send('Browser.setDownloadBehavior', { behavior: 'allowAndName', downloadPath: dir, eventsEnabled: true });
    const begun = new Promise((resolve) => cdp.on('Browser.downloadWillBegin', resolve));
    const ended = new Promise((resolve) => cdp.on('Browser.downloadProgress', (e) => e.state !== 'inProgress' && resolve(e)));
    const timedOut = (what) => sleep(timeout).then(() => Promise.reject(new Error(`no download ${what} within ${timeout} ms`)));
    await action();
    const download = await Promise.race([begun, timedOut('began')]);
    const progress = await Promise.race([ended, timedOut('ended')]);
    if (progress.state !== 'completed') throw new Error(`the download of ${download.url} ended ${progress.state}`);
    return { url: download.url, suggestedFilename: download.suggestedFilename, path: join(dir, download.guid) };
  } finally {
    await cdp.send('Browser.setDownloadBehavior', { behavior: 'default' }).catch(() => undefined);
    await cdp.detach().catch(() => undefined);
  }
}

/** A GraphQL request from the test itself (not the browser). */
export async function gql(query, variables, headers = {}) {
  const res = await fetch(`${BASE}/graphql`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', ...headers },
    body: JSON.stringify({ query, variables }),
  });
  return res.json();
}

// ---- mail ----
// Without SMTP the server writes each mail as an .eml file in <data dir>/outbox;
// run-against.sh passes that data dir as E2E_DATA_DIR.
export const OUTBOX = process.env.E2E_DATA_DIR ? join(process.env.E2E_DATA_DIR, 'outbox') : null;

/** The .eml files in the outbox now (to tell new mail from old). */
export function outboxFiles() {
  if (!OUTBOX || !existsSync(OUTBOX)) return new Set();
  return new Set(readdirSync(OUTBOX).filter((f) => f.endsWith('.eml') && !f.startsWith('.')));
}

/** A mail's text with quoted-printable undone (soft line breaks, =XX bytes as UTF-8). */
export function decodeMail(raw) {
  const joined = raw.replace(/=\r?\n/g, '');
  const bytes = joined.replace(/=([0-9A-Fa-f]{2})/g, (_, hex) => String.fromCharCode(parseInt(hex, 16)));
  return Buffer.from(bytes, 'latin1').toString('utf8');
}

/**
 * Waits for a new mail (not in `seen`) to `address` holding a link to `path` (e.g.
 * "/verify-email"); returns { file, text, link }, the link moved onto BASE (the server's
 * PUBLIC_URL may name another origin, e.g. the API behind the preview server).
 */
export async function waitForMail(address, path, { seen = new Set(), timeout = 20_000 } = {}) {
  if (!OUTBOX) throw new Error('E2E_DATA_DIR is not set: the outbox cannot be read');
  const pattern = new RegExp(`https?://[^\\s"'<>]+${path.replace(/[/.]/g, '\\$&')}\\?token=[^\\s"'<>&]+`);
  const deadline = Date.now() + timeout;
  while (Date.now() < deadline) {
    for (const file of [...outboxFiles()].sort()) {
      if (seen.has(file)) continue;
      const text = decodeMail(readFileSync(join(OUTBOX, file), 'latin1'));
      const headers = text.split(/\r?\n\r?\n/)[0];
      const to = headers.match(/^To:(.*(?:\r?\n[ \t].*)*)/im)?.[1] ?? '';
      if (!to.toLowerCase().includes(address.toLowerCase())) continue;
      const found = text.match(pattern);
      if (!found) continue;
      const url = new URL(found[0]);
      return { file, text, link: `${BASE}${url.pathname}${url.search}`, original: found[0] };
    }
    await sleep(250);
  }
  throw new Error(`no mail to ${address} with a ${path} link in ${OUTBOX} within ${timeout} ms`);
}
