// Staying signed in and saying why, in Chromium against a real server: many tabs opened at
// once, a rate-limited answer, a live-updates socket closed as "too many connections".
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { BASE, PASSWORD, click, failureShot, launch, sleep, typeInto, waitForText } from './helpers.mjs';

const run = `${Date.now().toString(36)}r`;
const user = { email: `e2e-${run}@example.com`, username: `e2e_${run}` };

const RATE_LIMITED = JSON.stringify({
  data: null,
  errors: [{ message: 'too many requests', extensions: { code: 'RATE_LIMITED', retryAfter: 7 } }],
});

describe('resilience', { timeout: 5 * 60_000 }, () => {
  let browser;
  let page;
  const passed = new Set();
  const step = (name, needs, fn) =>
    test(name, { timeout: 2 * 60_000 }, async (t) => {
      const missing = needs.filter((n) => !passed.has(n));
      if (missing.length) return t.skip(`needs: ${missing.join(', ')}`);
      try {
        await fn(t);
        passed.add(name);
      } catch (e) {
        const shot = await failureShot(page, name);
        if (shot) t.diagnostic(`screenshot: ${shot}`);
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

  step('sign up', [], async () => {
    await page.goto(`${BASE}/signup`, { waitUntil: 'networkidle0' });
    await typeInto(page, 'input[name=email]', user.email);
    await typeInto(page, 'input[name=username]', user.username);
    await typeInto(page, 'input[name=password]', PASSWORD);
    await click(page, 'Create account');
    await page.waitForFunction(() => location.pathname === '/files');
  });

  step('12 tabs opened at once all stay signed in', ['sign up'], async () => {
    const tabs = await Promise.all(Array.from({ length: 12 }, () => browser.newPage()));
    try {
      await Promise.all(tabs.map((tab) => tab.goto(`${BASE}/trash`, { waitUntil: 'domcontentloaded' })));
      const settled = await Promise.allSettled(
        tabs.map((tab) =>
          tab.waitForFunction(() => location.pathname === '/trash' && document.body.innerText.includes('The trash is empty.'), {
            timeout: 60_000,
            polling: 250, // background tabs draw no frames: 'raf' polling would never look
          }),
        ),
      );
      if (settled.some((r) => r.status === 'rejected')) {
        const seen = await Promise.all(tabs.map((tab) => tab.evaluate(() => `${location.pathname}: ${document.querySelector('main')?.innerText.slice(0, 400)}`)));
        assert.fail(`tabs not on the trash screen:\n${seen.join('\n---\n')}`);
      }
      await sleep(2_000); // a late refresh that failed would send a tab to the sign-in page now
      const where = await Promise.all(tabs.map((tab) => tab.evaluate(() => location.pathname)));
      assert.deepEqual(where, Array(12).fill('/trash'));
    } finally {
      await Promise.all(tabs.map((tab) => tab.close()));
    }
    await page.reload({ waitUntil: 'networkidle0' });
    await page.waitForFunction(() => location.pathname === '/files' && document.querySelector('h1')?.textContent === 'All files');
  });

  step('a rate-limited answer (HTTP 429) says when to try again', ['sign up'], async () => {
    await page.setRequestInterception(true);
    let limited = 0;
    const limitTrash = (request) => {
      if (request.isInterceptResolutionHandled()) return;
      const body = request.method() === 'POST' ? (request.postData() ?? '') : '';
      if (limited === 0 && request.url().endsWith('/graphql') && body.includes('query Trash')) {
        limited++;
        return request.respond({ status: 429, headers: { 'Retry-After': '7' }, contentType: 'application/json', body: RATE_LIMITED });
      }
      return request.continue();
    };
    page.on('request', limitTrash);
    try {
      await click(page, 'Trash', { within: 'nav' });
      await waitForText(page, 'Try again in 7 seconds.');
      assert.equal(limited, 1);
      assert.match(await page.$eval('[role=alert] li', (el) => el.textContent), /Too many attempts/);
      await click(page, 'Try again', { within: '[role=alert]' });
      await waitForText(page, 'The trash is empty.');
    } finally {
      page.off('request', limitTrash);
      await page.setRequestInterception(false);
    }
  });

  step('a live-updates socket closed with 4429 reconnects', ['sign up'], async () => {
    const tab = await browser.newPage();
    try {
      // The first socket closes as the server does for an account with too many sockets.
      await tab.evaluateOnNewDocument(() => {
        const Native = window.WebSocket;
        let first = true;
        window.__sockets = 0;
        window.WebSocket = class extends Native {
          constructor(...args) {
            super(...args);
            window.__sockets++;
            if (first) {
              first = false;
              this.addEventListener('open', () => this.close(4429, 'Too many connections'));
            }
          }
        };
      });
      await tab.goto(`${BASE}/operations`, { waitUntil: 'networkidle0' });
      await tab.waitForFunction(() => window.__sockets >= 2, { timeout: 30_000 }).catch(async (e) => {
        throw new Error(`${e.message}; sockets: ${await tab.evaluate(() => window.__sockets)}; page: ${await tab.evaluate(() => document.body.innerText.slice(0, 300))}`);
      });
      // Connected again: the banner goes, and the page is still signed in.
      await tab.waitForFunction(() => !document.body.innerText.includes('Live updates are disconnected'), { timeout: 30_000 });
      assert.equal(await tab.evaluate(() => location.pathname), '/operations');
    } finally {
      await tab.close();
    }
  });
});
