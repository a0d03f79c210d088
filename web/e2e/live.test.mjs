// Live data, in Chromium against a real server: screens change when the server says so
// (operation events, mutations, uploads), in every tab, without reloads or polling.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import {
  BASE,
  PASSWORD,
  click,
  confirmDialog,
  currentOperationId,
  failureShot,
  launch,
  makeFolder,
  sleep,
  typeInto,
  waitForText,
} from './helpers.mjs';

const run = `${Date.now().toString(36)}l`;
const user = { email: `e2e-${run}@example.com`, username: `e2e_${run}` };

/** Resolves once `page` listens to operationEvents on its socket (set up before it loads). */
async function listening(page) {
  const cdp = await page.createCDPSession();
  await cdp.send('Network.enable');
  const subscribed = new Promise((resolve) =>
    cdp.on('Network.webSocketFrameSent', (e) => {
      if (e.response.payloadData.includes('"subscribe"') && e.response.payloadData.includes('operationEvents')) resolve();
    }),
  );
  return subscribed.then(() => sleep(500)); // the server registers the listener as it reads the message
}

/** Bytes shown by the storage meter in the header ("437.2 kB of 1 GB used"). */
async function meterBytes(page) {
  const text = await page.$eval('.account .quota-text', (el) => el.textContent);
  const [, value, unit] = text.match(/^([\d.]+) (B|kB|MB|GB)/) ?? [];
  assert.ok(value, `meter: ${text}`);
  return Number(value) * { B: 1, kB: 1e3, MB: 1e6, GB: 1e9 }[unit];
}

/** Waits until the meter shows `test(bytes)`; returns the bytes shown. */
async function meterUntil(page, test, what, timeout = 20_000) {
  const deadline = Date.now() + timeout;
  let bytes = await meterBytes(page);
  while (!test(bytes)) {
    if (Date.now() > deadline) throw new Error(`the meter shows ${bytes} B, not ${what}`);
    await sleep(200);
    bytes = await meterBytes(page);
  }
  return bytes;
}

/** POSTs to /graphql made by `page` from now on. */
function countRequests(page) {
  const counter = { n: 0 };
  page.on('request', (r) => {
    if (r.method() === 'POST' && r.url().endsWith('/graphql')) counter.n++;
  });
  return counter;
}

/** A marker that a reload would lose. */
const mark = (page) => page.evaluate(() => (window.__notReloaded = true));
const notReloaded = async (page) => assert.equal(await page.evaluate(() => window.__notReloaded), true, 'the page was reloaded');

describe('live data', { timeout: 6 * 60_000 }, () => {
  let browser;
  let page;
  let tabB;
  const passed = new Set();
  const step = (name, needs, fn) =>
    test(name, { timeout: 2 * 60_000 }, async (t) => {
      const missing = needs.filter((n) => !passed.has(n));
      if (missing.length) return t.skip(`needs: ${missing.join(', ')}`);
      try {
        await fn(t);
        passed.add(name);
      } catch (e) {
        for (const [label, p] of [[name, page], [`${name} (tab B)`, tabB]]) {
          const shot = await failureShot(p, label);
          if (shot) t.diagnostic(`screenshot: ${shot}`);
        }
        throw e;
      }
    });

  before(async () => {
    ({ browser, page } = await launch());
  });
  after(async () => {
    const closed = browser?.close().then(() => true, () => false);
    if (closed && !(await Promise.race([closed, sleep(10_000).then(() => false)]))) browser.process()?.kill('SIGKILL');
  });

  step('sign up and upload a folder', [], async () => {
    await page.goto(`${BASE}/signup`, { waitUntil: 'networkidle0' });
    await typeInto(page, 'input[name=email]', user.email);
    await typeInto(page, 'input[name=username]', user.username);
    await typeInto(page, 'input[name=password]', PASSWORD);
    await click(page, 'Create account');
    await page.waitForFunction(() => location.pathname === '/files');
    const folder = makeFolder();
    const input = await page.waitForSelector('input[data-testid=upload-folder]');
    await input.uploadFile(folder.root);
    await waitForText(page, `${folder.files.length} of ${folder.files.length} files uploaded to All files.`, 60_000);
  });

  step("a second tab watches the first tab's operation appear and finish", ['sign up and upload a folder'], async () => {
    tabB = await browser.newPage();
    const live = listening(tabB);
    await tabB.goto(`${BASE}/operations`, { waitUntil: 'networkidle0' });
    await tabB.waitForFunction(() => document.querySelector('h1')?.textContent === 'Operations');
    await live;
    await mark(tabB);
    const asked = countRequests(tabB);

    await page.bringToFront();
    await click(page, 'Organize…');
    await page.waitForSelector('.start-form');
    await click(page, 'Plan (dry run)');
    const id = await currentOperationId(page);

    // Tab B: a row for it in the history, then Completed, and the card agrees.
    await tabB.waitForSelector(`.ops-table a[href="/operations/${id}"]`, { timeout: 30_000 });
    await tabB.waitForFunction(
      (id) => {
        const row = document.querySelector(`.ops-table a[href="/operations/${id}"]`)?.closest('tr');
        return row?.querySelector('.badge')?.textContent.trim() === 'Completed';
      },
      { timeout: 60_000, polling: 250 }, // a tab behind another draws no frames
      id,
    );
    await tabB.waitForSelector(`.live-op[data-operation-id="${id}"][data-status=COMPLETED]`);
    assert.equal(await tabB.$eval('#live-heading', (el) => el.textContent), 'Just finished');
    const row = await tabB.$eval(`.ops-table a[href="/operations/${id}"]`, (a) => a.closest('tr').textContent);
    assert.match(row, /Organize \(dry run\)/);
    assert.match(row, /Completed/);
    assert.match(await tabB.$eval('.card-head .muted', (el) => el.textContent), /^1 operations?$/);
    await notReloaded(tabB);

    // Nothing is polled: once the history is true, tab B asks the server for nothing more.
    const settled = asked.n;
    assert.ok(settled <= 6, `tab B sent ${settled} requests for one operation`);
    await sleep(6_000);
    assert.equal(asked.n, settled, 'tab B went on asking the server');
  });

  step('a purge from the trash makes the storage meter drop, here and in the other tab', ['sign up and upload a folder'], async () => {
    await page.bringToFront();
    await page.goto(`${BASE}/files`, { waitUntil: 'networkidle0' });
    await mark(page);
    const before = await meterBytes(page);
    const dir = mkdtempSync(join(tmpdir(), 'organizer-e2e-live-'));
    writeFileSync(join(dir, 'big.bin'), randomBytes(400_000));
    const input = await page.waitForSelector('input[data-testid=upload-files]');
    await input.uploadFile(join(dir, 'big.bin'));
    await waitForText(page, '1 of 1 file uploaded to All files.', 60_000);
    const uploaded = await meterUntil(page, (b) => b >= before + 390_000, 'the upload counted');
    if (tabB) await meterUntil(tabB, (b) => b >= before + 390_000, 'the upload counted in tab B');

    await page.waitForSelector('button[aria-label="Delete big.bin"]');
    await page.click('button[aria-label="Delete big.bin"]');
    await confirmDialog(page, 'Move to trash');
    await waitForText(page, 'Moved to the trash', 30_000);
    await click(page, 'Trash', { within: 'nav' });
    await page.waitForSelector('.trash-table tbody tr');
    assert.equal(await meterBytes(page), uploaded, 'the trash still counts');
    await click(page, 'Empty trash…');
    await confirmDialog(page, 'Empty trash');
    await waitForText(page, 'The trash is empty.', 30_000);
    await meterUntil(page, (b) => b <= uploaded - 390_000, 'the purge counted');
    await notReloaded(page);
    if (tabB) {
      await meterUntil(tabB, (b) => b <= uploaded - 390_000, 'the purge counted in tab B');
      await notReloaded(tabB);
    }
  });
});
