// End to end, in Chromium, against a real Organizer server (E2E_BASE_URL):
// sign up → upload a folder → organize (dry run, review, apply, watch progress)
// → roll back → duplicate cleanup (dry run, apply, purge) → history, rules, keys
// → GraphiQL (query with the Authorization header, a subscription, a refused token).
// Writes screenshots of the main screens to docs/screenshots/.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  BASE,
  PASSWORD,
  click,
  confirmDialog,
  currentOperationId,
  downloadOf,
  gql,
  launch,
  newPage,
  failureShot,
  makeFolder,
  shoot,
  sleep,
  typeInto,
  waitForStatus,
  waitForText,
} from './helpers.mjs';

const run = Date.now().toString(36);
const user = { email: `e2e-${run}@example.com`, username: `e2e_${run}`, fullName: 'Erin Example' };

describe('Organizer web app', { timeout: 12 * 60_000 }, () => {
  let browser;
  let page;
  let problems;
  let apiKey;
  const folder = makeFolder();

  // Each step may need earlier ones: when one of those failed, it is skipped (with the
  // reason) instead of timing out on a page that cannot be there. A failing step leaves
  // a screenshot in the failure folder (printed) for the log.
  const passed = new Set();
  const step = (name, needs, fn) =>
    test(name, { timeout: 3 * 60_000 }, async (t) => {
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
    ({ browser, page, problems } = await launch());
  });
  after(async () => {
    // Never hang here: a browser that does not close in time is killed.
    const closed = browser?.close().then(() => true, () => false);
    if (closed && !(await Promise.race([closed, sleep(10_000).then(() => false)]))) browser.process()?.kill('SIGKILL');
  });

  step('the server answers and serves the web app', [], async () => {
    const ready = await fetch(`${BASE}/ready`, { signal: AbortSignal.timeout(10_000) });
    assert.equal(ready.status, 200, `GET ${BASE}/ready`);
    const res = await fetch(`${BASE}/`, { signal: AbortSignal.timeout(10_000) });
    assert.equal(res.status, 200, `GET ${BASE}/ should serve the app`);
    const html = await res.text();
    assert.ok(
      html.includes('<div id="root">') && /src="\/assets\/[^"]+\.js"/.test(html),
      `GET ${BASE}/ is not the built web app (was the server built without web/dist?): ${html.slice(0, 200)}`,
    );
    const csp = res.headers.get('content-security-policy');
    assert.ok(csp?.includes("script-src 'self'"), 'the page is served with the CSP');
    const graphiql = await fetch(`${BASE}/graphql`, { headers: { Accept: 'text/html' }, signal: AbortSignal.timeout(10_000) });
    assert.equal(graphiql.status, 200, 'GET /graphql serves GraphiQL');
    assert.match(await graphiql.text(), /id="graphiql"/, 'GET /graphql is our GraphiQL page');
  });

  step('sign up', ['the server answers and serves the web app'], async () => {
    await page.goto(`${BASE}/files`, { waitUntil: 'networkidle0' });
    await page.waitForFunction(() => location.pathname === '/login');
    await shoot(page, 'sign-in');
    await click(page, 'Create an account');
    await page.waitForSelector('input[name=email]');
    await shoot(page, 'sign-up');
    await typeInto(page, 'input[name=fullName]', user.fullName);
    // Every bad field is shown at once, and focus goes to the first.
    await typeInto(page, 'input[name=email]', 'not an address');
    await typeInto(page, 'input[name=username]', 'a');
    await typeInto(page, 'input[name=password]', 'short');
    await click(page, 'Create account');
    await page.waitForSelector('input[name=password][aria-invalid=true]');
    for (const name of ['email', 'username']) {
      assert.equal(await page.$eval(`input[name=${name}]`, (el) => el.getAttribute('aria-invalid')), 'true', name);
    }
    await page.waitForFunction(() => document.activeElement?.getAttribute('name') === 'email');
    await typeInto(page, 'input[name=email]', user.email);
    await typeInto(page, 'input[name=username]', user.username);
    await typeInto(page, 'input[name=password]', PASSWORD);
    await click(page, 'Create account');
    await page.waitForFunction(() => location.pathname === '/files');
    await waitForText(page, 'This folder is empty');
  });

  step('stays signed in across a reload', ['sign up'], async () => {
    await page.reload({ waitUntil: 'networkidle0' });
    await page.waitForFunction(() => location.pathname === '/files' && document.querySelector('h1')?.textContent === 'All files');
    // A second tab takes the first tab's access token: signed in, no refresh of its own.
    const tab = await browser.newPage();
    let refreshes = 0;
    tab.on('request', (request) => {
      if (request.method() === 'POST' && (request.postData() ?? '').includes('"RefreshToken"')) refreshes++;
    });
    await tab.goto(`${BASE}/files`, { waitUntil: 'networkidle0' });
    await tab.waitForFunction(() => location.pathname === '/files' && document.querySelector('h1')?.textContent === 'All files');
    await tab.close();
    assert.equal(refreshes, 0, 'the second tab refreshed instead of asking the first');
  });

  step('upload a folder', ['sign up'], async () => {
    const input = await page.waitForSelector('input[data-testid=upload-folder]');
    await input.uploadFile(folder.root);
    await waitForText(page, `${folder.files.length} of ${folder.files.length} files uploaded to All files.`, 60_000);
    await page.waitForFunction(() => [...document.querySelectorAll('.files-table a')].some((a) => a.textContent.includes('trip')));
    await shoot(page, 'files-upload');
    // The tray goes with the uploads it shows (else it stays, on every page).
    await click(page, 'Clear finished', { within: '[data-testid=upload-tray]' });
    await page.waitForFunction(() => !document.querySelector('[data-testid=upload-tray]'));
    await click(page, 'trip (folder)', { tag: 'a' });
    await page.waitForFunction(() => location.search.includes('trip'));
    await page.waitForFunction(() => document.querySelectorAll('.files-table tbody tr').length === 4); // photos, docs, music, budget.csv
    // The file keeps its own modified time (sent as modifiedAt), not the upload's.
    const budgetRow = await page.$$eval('.files-table tbody tr', (trs) => trs.find((tr) => tr.textContent.includes('budget.csv'))?.textContent ?? '');
    assert.match(budgetRow, /2021/, `budget.csv row: ${budgetRow}`);
    await shoot(page, 'files');
  });

  let planId;
  step('dry-run organize and review the plan', ['upload a folder'], async () => {
    await click(page, 'Organize…');
    await page.waitForSelector('.start-form');
    assert.equal(await page.$eval('.start-form .dry-run input', (el) => el.checked), true, 'dry run is the default');
    await shoot(page, 'organize-options');
    await click(page, 'Plan (dry run)');
    planId = await currentOperationId(page);
    await page.waitForSelector('#plan-heading', { timeout: 60_000 });
    await waitForText(page, 'would move');
    await page.waitForFunction(() => document.querySelectorAll('.plan-group .plan-folder').length >= 2);
    const groups = await page.$$eval('.plan-group .plan-folder', (els) => els.map((e) => e.textContent));
    assert.ok(groups.length >= 2, `plan groups: ${groups.join(', ')}`);
    // Counts over every record come from the server (the report below the plan).
    await waitForText(page, 'Files per category');
    // Leave one file out of the plan: it stays where it is when the plan is applied.
    await page.click('input[aria-label="Move trip/budget.csv"]');
    await page.waitForSelector('li.plan-excluded');
    await shoot(page, 'plan-organize');
  });

  let appliedId;
  step('apply the plan and watch it complete', ['dry-run organize and review the plan'], async () => {
    await click(page, 'Apply this plan');
    const text = await confirmDialog(page, 'Apply plan');
    assert.match(text, /exactly as planned, leaving out the 1 file you chose/);
    appliedId = await currentOperationId(page, planId);
    await waitForStatus(page, 'Completed');
    // The file left out is recorded as such, and stayed.
    await waitForText(page, 'left out of the plan by you', 30_000);
    await page.waitForSelector('#report-heading');
    const live = await page.$('.live-op[data-status=COMPLETED] [role=progressbar][aria-valuenow="100"]');
    assert.ok(live, 'the progress bar reached 100 %');
    await shoot(page, 'report-organize');
  });

  step('roll back: the files are back', ['apply the plan and watch it complete'], async () => {
    await click(page, 'Roll back…');
    await page.waitForSelector('dialog[open]');
    await shoot(page, 'rollback-dialog');
    const text = await confirmDialog(page, 'Roll back');
    assert.match(text, /^Moves \d+ files? back to where they were\. Files changed since are skipped\.$/);
    const rollbackId = await currentOperationId(page, appliedId);
    await waitForStatus(page, 'Completed');
    assert.notEqual(rollbackId, appliedId);
    await page.goto(`${BASE}/files?path=trip`, { waitUntil: 'networkidle0' });
    await page.waitForFunction(() => document.querySelectorAll('.files-table tbody tr').length > 0);
    const names = await page.$$eval('.files-table tbody tr td:first-child', (tds) => tds.map((td) => td.textContent.replace('(folder)', '').trim()));
    assert.deepEqual(names.sort(), ['budget.csv', 'docs', 'music', 'photos']);
  });

  let cleanupId;
  step('duplicate cleanup: dry run, apply, purge', ['upload a folder'], async () => {
    await click(page, 'Find duplicates…');
    await page.waitForSelector('.start-form');
    await click(page, 'Plan (dry run)');
    const dryId = await currentOperationId(page);
    await page.waitForSelector('.dup-group', { timeout: 60_000 });
    const groups = await page.$$eval('.dup-group', (els) => els.length);
    assert.equal(groups, folder.duplicates);
    const badges = await page.$$eval('.dup-group', (els) => els.map((g) => [...g.querySelectorAll('.badge')].map((b) => b.textContent.trim()).sort().join('+')));
    assert.deepEqual(badges, ['Kept+To trash', 'Kept+To trash'], 'each group shows the copy it keeps');
    // Equal times: the original is kept, not the copy, and the plan says why.
    const beach = await page.$$eval('.dup-group li.dup-kept', (lis) => lis.map((li) => li.textContent));
    assert.ok(beach.some((t) => t.includes('trip/photos/beach.jpg') && t.includes('look like copies')), `kept: ${beach.join(' | ')}`);
    // Choose the other copy of the itinerary to keep.
    await page.click('input[aria-label="Keep trip/docs/old/itinerary-backup.pdf"]');
    await page.waitForFunction(() => [...document.querySelectorAll('li.dup-kept')].some((li) => li.textContent.includes('itinerary-backup.pdf')));
    await shoot(page, 'plan-duplicates');
    await click(page, 'Apply this plan');
    await confirmDialog(page, 'Apply plan');
    cleanupId = await currentOperationId(page, dryId);
    await waitForStatus(page, 'Completed');
    await page.waitForSelector('#report-heading');
    await click(page, 'Delete trash for good…');
    await page.waitForSelector('dialog[open]');
    await shoot(page, 'purge-dialog');
    const text = await confirmDialog(page, 'Delete for good');
    assert.match(text, /^Deletes 2 files \([\d.]+ kB\) for good\. This cleanup can no longer be undone\.$/);
    await waitForText(page, 'deleted for good');
    const saved = await page.$$eval('#report-heading ~ * dt, .card dt', (dts) =>
      dts.filter((dt) => dt.textContent.trim() === 'Space saved').map((dt) => dt.nextElementSibling?.textContent.trim()),
    );
    assert.ok(saved.some((v) => /^[\d.]+ kB$/.test(v ?? '')), `space saved shown: ${saved}`);
    await shoot(page, 'report-duplicates');
  });

  step('history and report', ['duplicate cleanup: dry run, apply, purge'], async () => {
    await page.goto(`${BASE}/operations`, { waitUntil: 'networkidle0' });
    await page.waitForSelector('.ops-table tbody tr');
    const rows = await page.$$eval('.ops-table tbody tr', (trs) => trs.length);
    assert.ok(rows >= 5, `operations listed: ${rows}`);
    await shoot(page, 'operations');
    await page.goto(`${BASE}/operations/${cleanupId}`, { waitUntil: 'networkidle0' });
    await page.waitForSelector('#report-heading');
    await waitForText(page, 'deleted for good');
  });

  step('files: new folder, rename, move, download', ['duplicate cleanup: dry run, apply, purge'], async () => {
    await page.goto(`${BASE}/files?path=trip`, { waitUntil: 'networkidle0' });
    await page.waitForSelector('.files-table tbody tr');
    await click(page, 'New folder…');
    await page.waitForSelector('dialog[open] input[name=prompt]');
    await typeInto(page, 'dialog[open] input[name=prompt]', 'keep');
    await click(page, 'Create folder', { within: 'dialog[open]' });
    await waitForText(page, 'Folder “keep” created.');
    await page.waitForFunction(() => [...document.querySelectorAll('.files-table a')].some((a) => a.textContent.includes('keep')));

    await page.click('button[aria-label="Rename budget.csv"]');
    await page.waitForSelector('dialog[open] input[name=prompt]');
    await typeInto(page, 'dialog[open] input[name=prompt]', 'budget-2021.csv');
    await shoot(page, 'files-rename');
    await click(page, 'Rename', { within: 'dialog[open]' });
    await waitForText(page, 'Renamed to “budget-2021.csv”', 30_000);
    await page.waitForFunction(() => document.querySelector('.files-table').textContent.includes('budget-2021.csv'));

    // A taken name is refused in the dialog, which stays open with the reason.
    await page.click('button[aria-label="Rename budget-2021.csv"]');
    await typeInto(page, 'dialog[open] input[name=prompt]', 'keep');
    await click(page, 'Rename', { within: 'dialog[open]' });
    await page.waitForSelector('dialog[open] .notice-error');
    await click(page, 'Cancel', { within: 'dialog[open]' });

    await page.click('button[aria-label="Move budget-2021.csv"]');
    await typeInto(page, 'dialog[open] input[name=prompt]', 'trip/keep');
    await click(page, 'Move', { within: 'dialog[open]' });
    await waitForText(page, 'Moved into “trip/keep”', 30_000);
    await page.waitForFunction(() => !document.querySelector('.files-table').textContent.includes('budget-2021.csv'));

    // Download: the link the button follows gives back the uploaded bytes, as an attachment.
    await page.goto(`${BASE}/files?path=trip%2Fdocs`, { waitUntil: 'networkidle0' });
    const download = await downloadOf(browser, () => page.click('button[aria-label="Download notes.txt"]'));
    const { url } = download;
    assert.ok(url.includes('/files/trip/docs/notes.txt'), `the Download button follows a file link: ${url}`);
    assert.ok(!url.includes('Bearer') && url.includes('sig='), `a signed link, no token: ${url}`);
    assert.equal(download.suggestedFilename, 'notes.txt');
    assert.ok(readFileSync(download.path).equals(readFileSync(join(folder.root, 'docs/notes.txt'))), 'the browser saved the uploaded bytes');
    const res = await fetch(url);
    assert.equal(res.status, 200);
    assert.match(res.headers.get('content-disposition') ?? '', /^attachment;/);
    assert.equal(res.headers.get('x-content-type-options'), 'nosniff');
    const body = Buffer.from(await res.arrayBuffer());
    assert.ok(body.equals(readFileSync(join(folder.root, 'docs/notes.txt'))), 'downloaded bytes are the uploaded bytes');
  });

  step('an HTML file never runs as the app', ['files: new folder, rename, move, download'], async () => {
    // A page that would announce itself if its script ran, in the app's origin or anywhere.
    const dir = mkdtempSync(join(tmpdir(), 'organizer-e2e-html-'));
    const html = join(dir, 'page.html');
    writeFileSync(html, '<!doctype html><title>page</title><script>document.title = "RAN"; localStorage.setItem("pwned", "1");</script>');
    await page.goto(`${BASE}/files?path=trip`, { waitUntil: 'networkidle0' });
    const input = await page.waitForSelector('input[data-testid=upload-files]');
    await input.uploadFile(html);
    await page.waitForFunction(() => document.querySelector('.files-table')?.textContent.includes('page.html'), { timeout: 30_000 });
    // "Open" asks for it inline; the server answers with an attachment of bytes instead.
    await page.evaluate(() => {
      window.__opened = [];
      window.open = (u) => {
        window.__opened.push(String(u));
        return null;
      };
    });
    await page.click('button[aria-label="Open page.html"]');
    await page.waitForFunction(() => window.__opened.length > 0);
    const link = await page.evaluate(() => window.__opened[0]);
    assert.match(link, /^\/files\/trip\/page\.html\?.*inline=1.*sig=/, link);
    const res = await fetch(`${BASE}${link}`);
    assert.equal(res.status, 200);
    assert.match(res.headers.get('content-disposition') ?? '', /^attachment;/);
    assert.equal(res.headers.get('content-type'), 'application/octet-stream');
    assert.match(res.headers.get('content-security-policy') ?? '', /sandbox/);
    // Loaded in a tab of its own, it is a download, not a page that runs.
    const tab = await browser.newPage();
    await tab.goto(`${BASE}${link}`).catch(() => {}); // a download aborts the navigation
    await sleep(1_000);
    assert.notEqual(await tab.title().catch(() => ''), 'RAN', 'the HTML file ran as a page');
    await tab.close().catch(() => {});
    assert.equal(await page.evaluate(() => localStorage.getItem('pwned')), null, 'no script ran in the app origin');
    assert.equal(await page.title() === 'RAN', false);
  });

  step('search and sort', ['files: new folder, rename, move, download'], async () => {
    await page.goto(`${BASE}/files`, { waitUntil: 'networkidle0' });
    await typeInto(page, 'input[name=search]', 'BEACH');
    await page.waitForFunction(() => document.querySelector('.files-table')?.textContent.includes('trip/photos/beach.jpg'));
    await shoot(page, 'files-search');
    await page.select('select[name=sort]', 'SIZE_DESC');
    await page.waitForFunction(() => document.querySelector('.files-table')?.textContent.includes('trip/photos/beach.jpg'));
  });

  step('delete to the trash, restore, empty', ['files: new folder, rename, move, download'], async () => {
    await page.goto(`${BASE}/files?path=trip`, { waitUntil: 'networkidle0' });
    await page.click('button[aria-label="Delete docs"]');
    const text = await confirmDialog(page, 'Move to trash');
    assert.match(text, /everything in it/);
    await waitForText(page, 'Moved to the trash', 30_000);
    await page.waitForFunction(() => ![...document.querySelectorAll('.files-table a')].some((a) => a.textContent.includes('docs')));
    await click(page, 'Trash', { within: 'nav' });
    await page.waitForSelector('.trash-table tbody tr');
    const rows = await page.$$eval('.trash-table tbody tr', (trs) => trs.map((tr) => tr.textContent));
    assert.ok(rows.some((r) => r.includes('trip/docs/notes.txt')), `trash: ${rows.join(' | ')}`);
    assert.ok(!(await page.$$eval('.files-table a', (as) => as.map((a) => a.textContent))).some((t) => t.includes('.trash')));
    await page.click('input[aria-label="Select trip/docs/notes.txt"]');
    await shoot(page, 'trash');
    await click(page, 'Restore selected');
    await waitForText(page, 'restored to where they were', 30_000);
    const back = await gql('{ __typename }', {});
    assert.ok(back.data, 'the server still answers');
    await page.goto(`${BASE}/files?path=trip%2Fdocs`, { waitUntil: 'networkidle0' });
    await page.waitForFunction(() => document.querySelector('.files-table')?.textContent.includes('notes.txt'));
    await click(page, 'Trash', { within: 'nav' });
    await page.waitForSelector('.trash-table tbody tr');
    await click(page, 'Empty trash…');
    await confirmDialog(page, 'Empty trash');
    await waitForText(page, 'The trash is empty.', 30_000);
  });

  step('category rules', ['sign up'], async () => {
    await page.goto(`${BASE}/rules`, { waitUntil: 'networkidle0' });
    await click(page, 'New rule…');
    await page.waitForSelector('.grid-form');
    const ids = await page.$$eval('.grid-form input', (els) => els.map((e) => e.id));
    await typeInto(page, `[id="${ids[0]}"]`, 'Budgets');
    await typeInto(page, `[id="${ids[1]}"]`, 'Finance');
    await typeInto(page, `[id="${ids[2]}"]`, 'csv, xlsx');
    await typeInto(page, `[id="${ids[7]}"]`, '10');
    await click(page, 'Create rule');
    await waitForText(page, 'Budgets');
    await page.waitForFunction(() => !document.querySelector('.grid-form'));
    await shoot(page, 'rules');
  });

  step('API keys: the secret is shown once', ['sign up'], async () => {
    await page.goto(`${BASE}/keys`, { waitUntil: 'networkidle0' });
    await typeInto(page, 'form.inline-form input:not([type=date])', 'e2e script');
    await click(page, 'Create key');
    await page.waitForSelector('.secret-value');
    apiKey = await page.$eval('.secret-value', (el) => el.value);
    assert.match(apiKey, /\S{20,}/);
    // The screenshot goes into the repository: show a look-alike, not the key.
    await page.$eval('.secret-value', (el) => {
      el.value = `${el.value.slice(0, 4)}${'x'.repeat(Math.max(0, el.value.length - 4))}`;
    });
    await page.$$eval('.keys-table code, table code', (els) => els.forEach((el) => (el.textContent = el.textContent.replace(/^(org_)\S+?(…?)$/, '$1xxxxxxxx$2'))));
    await shoot(page, 'keys');
    const me = await gql('{ me { username } }', {}, { 'X-API-Key': apiKey });
    assert.equal(me.data?.me.username, user.username);
  });

  step('GraphiQL: a query with the Authorization header, subscriptions, a refused token', ['API keys: the secret is shown once'], async () => {
    const { page: gpage, problems: gProblems } = await newPage(browser);
    try {
      await graphiqlFlow(gpage);
    } finally {
      await gpage.close().catch(() => undefined);
      await page.bringToFront();
    }
    assert.deepEqual(gProblems, []);
  });

  async function graphiqlFlow(gpage) {
    const me = await gql('{ me { id } }', {}, { 'X-API-Key': apiKey });
    const myId = me.data?.me.id;
    assert.ok(myId, JSON.stringify(me));
    await gpage.goto(`${BASE}/graphql`, { waitUntil: 'networkidle0' });
    await gpage.waitForSelector('.graphiql-container .graphiql-query-editor .CodeMirror');
    const responseText = () => gpage.evaluate(() => document.querySelector('.graphiql-response')?.innerText ?? '');
    const waitForResponse = (pattern, timeout = 20_000) =>
      gpage.waitForFunction(
        (source) => new RegExp(source).test(document.querySelector('.graphiql-response')?.innerText ?? ''),
        { timeout },
        pattern.source,
      );
    // Types into a CodeMirror editor as a user would (select all, then the text; inserted
    // as text input so the editor's auto-closing brackets do not double them).
    const typeInEditor = async (selector, text) => {
      await gpage.click(selector);
      await gpage.keyboard.down('Control');
      await gpage.keyboard.press('a');
      await gpage.keyboard.up('Control');
      await gpage.keyboard.press('Backspace');
      await gpage.keyboard.sendCharacter(text);
      await gpage.keyboard.down('Control');
      await gpage.keyboard.press('Home'); // back to the start, for the screenshots
      await gpage.keyboard.up('Control');
      await sleep(400); // GraphiQL reads the edits into its state a moment later
    };
    const typeHeaders = async (json) => {
      const [tab] = await gpage.$$('xpath/.//div[contains(@class,"graphiql-editor-tools")]//button[normalize-space()="Headers"]');
      assert.ok(tab, 'the Headers tab');
      const open = await gpage.$('.graphiql-editor-tool .graphiql-editor:not(.hidden) .CodeMirror');
      const isHeaders = open && (await gpage.evaluate((b) => b.getAttribute('aria-selected') === 'true' || b.className.includes('active'), tab));
      if (!isHeaders) await tab.click();
      await gpage.waitForSelector('.graphiql-editor-tool .graphiql-editor:not(.hidden) .CodeMirror', { visible: true });
      await typeInEditor('.graphiql-editor-tool .graphiql-editor:not(.hidden) .CodeMirror', json);
    };
    const typeQuery = (query) => typeInEditor('.graphiql-query-editor .CodeMirror', query);
    const run = () => gpage.click('.graphiql-execute-button');
    // A running subscription shows a stop button in place of the run button.
    const isRunning = () => gpage.evaluate(() => document.querySelector('.graphiql-execute-button')?.getAttribute('aria-label')?.startsWith('Stop') ?? false);

    // { me { id } } with the session's access token typed into the Headers tab.
    const login = await gql('mutation($input: LoginInput!) { login(input: $input) { accessToken } }', {
      input: { login: user.username, password: PASSWORD },
    });
    const token = login.data?.login.accessToken;
    assert.ok(token, JSON.stringify(login));
    await typeHeaders(JSON.stringify({ Authorization: `Bearer ${token}` }));
    await typeQuery('{ me { id } }');
    await run();
    await waitForResponse(new RegExp(myId));
    await shoot(gpage, 'graphiql');

    // A subscription while an operation runs: its events arrive in the results pane.
    await typeQuery('subscription { operationEvents { operationId status } }');
    await run();
    await gpage.waitForFunction(() => document.querySelector('.graphiql-execute-button')?.getAttribute('aria-label')?.startsWith('Stop') ?? false, { timeout: 10_000 }).catch(() => undefined);
    await sleep(1000); // the socket is open and subscribed
    const started = await gql(
      'mutation($input: StartOperationInput!) { startOperation(input: $input) { id } }',
      { input: { type: 'ORGANIZE', rootPath: '', dryRun: true } },
      { 'X-API-Key': apiKey },
    );
    const opId = started.data?.startOperation.id;
    assert.ok(opId, JSON.stringify(started));
    await waitForResponse(new RegExp(`"operationId": "${opId}"[\\s\\S]*"status": "COMPLETED"|"status": "COMPLETED"[\\s\\S]*"operationId": "${opId}"`), 30_000);
    assert.match(await responseText(), /"operationEvents"/);
    await shoot(gpage, 'graphiql-subscription');
    if (await isRunning()) await run(); // stop it

    // operationProgress of the finished operation with X-API-Key: one event, then it ends.
    await typeHeaders(JSON.stringify({ 'X-API-Key': apiKey }));
    await typeQuery(`subscription { operationProgress(id: "${opId}") { operationId status } }`);
    await run();
    await waitForResponse(new RegExp(`"operationId": "${opId}"`), 30_000);
    await gpage.waitForFunction(() => !(document.querySelector('.graphiql-execute-button')?.getAttribute('aria-label')?.startsWith('Stop') ?? false), { timeout: 15_000 });

    // A refused token: an error at once, no retry loop.
    await typeHeaders(JSON.stringify({ Authorization: 'Bearer not-a-valid-token' }));
    await typeQuery('subscription { operationEvents { operationId } }');
    const t0 = Date.now();
    await run();
    await waitForResponse(/refused the credentials/, 10_000);
    assert.ok(Date.now() - t0 < 8_000, 'the refusal shows within seconds');
    await shoot(gpage, 'graphiql-refused');
    // The same bad token on a query: the server's error, at once.
    await typeQuery('{ me { id } }');
    await run();
    await waitForResponse(/UNAUTHENTICATED|invalid|expired/i, 10_000);

    // A placeholder is reported, not sent.
    await typeHeaders('{ "Authorization": "Bearer <accessToken>" }');
    await run();
    await waitForResponse(/placeholder/);
  }

  step('sign out', ['sign up'], async () => {
    await page.goto(`${BASE}/files`, { waitUntil: 'networkidle0' });
    // Signed in, no script can read the refresh token: it is in an HttpOnly cookie, and
    // storage holds only a marker that a session exists.
    const held = await page.evaluate(() => ({
      cookie: document.cookie,
      marker: localStorage.getItem('organizer.session'),
      legacy: localStorage.getItem('organizer.refreshToken'),
    }));
    assert.ok(!held.cookie.includes('organizer_refresh'), held.cookie);
    assert.match(held.marker ?? '', /^cookie:/);
    assert.equal(held.legacy, null);
    const cookies = await page.cookies(`${BASE}/graphql`);
    const session = cookies.find((c) => c.name === 'organizer_refresh');
    assert.ok(session && session.httpOnly && session.sameSite === 'Strict' && session.path === '/graphql', JSON.stringify(cookies));
    await click(page, 'Sign out');
    await page.waitForFunction(() => location.pathname === '/login');
    await waitForText(page, 'You signed out.');
    const stored = await page.evaluate(() => localStorage.getItem('organizer.session') ?? localStorage.getItem('organizer.refreshToken'));
    assert.equal(stored, null);
    assert.ok(!(await page.cookies(`${BASE}/graphql`)).some((c) => c.name === 'organizer_refresh'), 'the cookie is cleared');
    // Signed out means signed out: a reload stays on the sign-in page.
    await page.goto(`${BASE}/files`, { waitUntil: 'networkidle0' });
    await page.waitForFunction(() => location.pathname === '/login');
  });

  step('sign back in', ['sign out'], async () => {
    // A wrong password first: an error, still on the sign-in page.
    await typeInto(page, 'input[name=login]', user.username);
    await typeInto(page, 'input[name=password]', 'not the password 123');
    await click(page, 'Sign in');
    await page.waitForFunction(() => document.querySelector('[aria-invalid=true], .notice-error, [role=alert]'));
    assert.equal(await page.evaluate(() => location.pathname), '/login');
    await typeInto(page, 'input[name=login]', user.email);
    await typeInto(page, 'input[name=password]', PASSWORD);
    await click(page, 'Sign in');
    await page.waitForFunction(() => location.pathname === '/files');
    if (passed.has('upload a folder')) {
      await page.waitForFunction(() => [...document.querySelectorAll('.files-table a')].some((a) => a.textContent.includes('trip')));
    }
    await page.reload({ waitUntil: 'networkidle0' });
    await page.waitForFunction(() => location.pathname === '/files' && document.querySelector('.account-name')?.textContent.trim().length > 0);
  });

  test('no CSP violations or page errors', () => {
    assert.deepEqual(problems, []);
    assert.ok(readdirSync(join(import.meta.dirname, '../../docs/screenshots')).length > 10);
  });
});
