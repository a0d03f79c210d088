import { launch, BASE, gql, sleep, PASSWORD } from './helpers.mjs';
const { browser, page } = await launch();
const log = [];
page.on('console', (m) => log.push(`console ${m.type()}: ${m.text()}`));
const run = Date.now().toString(36);
const s = await gql(`mutation { signup(input: {email: "g${run}@x.com", username: "g${run}", password: "${PASSWORD}"}) { accessToken } }`);
const token = s.data.signup.accessToken;
const resp = () => page.evaluate(() => document.querySelector('.graphiql-response')?.innerText ?? '');
async function typeEditor(selector, text) {
  await page.click(selector);
  await page.keyboard.down('Control'); await page.keyboard.press('a'); await page.keyboard.up('Control');
  await page.keyboard.press('Backspace');
  await page.keyboard.sendCharacter(text);
}
try {
  await page.goto(`${BASE}/graphql`, { waitUntil: 'networkidle0', timeout: 20000 });
  await page.waitForSelector('.graphiql-container .CodeMirror', { timeout: 10000 });
  const btns = await page.$$eval('.graphiql-editor-tools button', (bs) => bs.map((b) => b.textContent));
  log.push(JSON.stringify(btns));
  const [hb] = await page.$$('xpath/.//div[contains(@class,"graphiql-editor-tools")]//button[normalize-space()="Headers"]');
  await hb.click();
  await sleep(300);
  await typeEditor('.graphiql-editor-tool .graphiql-editor:not(.hidden) .CodeMirror', JSON.stringify({ Authorization: `Bearer ${token}` }));
  await typeEditor('.graphiql-query-editor .CodeMirror', '{ me { id } }');
  log.push('hdr=' + await page.evaluate(() => document.querySelector('.graphiql-editor-tool .graphiql-editor:not(.hidden) .CodeMirror').CodeMirror.getValue()));
  await page.click('.graphiql-execute-button');
  await sleep(2000);
  log.push('resp=' + await resp());
} catch (e) { log.push('ERR ' + e.message); }
await page.screenshot({ path: '/tmp/e2e-srv/gq.png' });
console.log(log.join('\n'));
await browser.close();
