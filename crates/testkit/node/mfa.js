// Setting up and using an authenticator app as a person does: node mfa.js '<config JSON>' (built
// by crates/testkit/tests/mfa_browser.rs). The config holds base_url, email, password and
// screenshots {setup, codes}. The script plays the authenticator app itself (RFC 6238 over the
// key the page shows). Prints one JSON line: {browser, setup, codes, account, second}.
'use strict';

const crypto = require('node:crypto');
const { launch, screenshot, run } = require('./browser');

/** RFC 4648 base32 without padding, as an authenticator app reads the key. */
function base32Decode(text) {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
  let bits = 0;
  let value = 0;
  const out = [];
  for (const c of text.replace(/\s+/g, '')) {
    const v = alphabet.indexOf(c);
    if (v < 0) throw new Error(`not base32: ${c}`);
    value = (value << 5) | v;
    bits += 5;
    if (bits >= 8) {
      bits -= 8;
      out.push((value >>> bits) & 0xff);
    }
  }
  return Buffer.from(out);
}

/** The 6-digit SHA-1 code of a 30-second step (RFC 6238). */
function totp(key, step) {
  const counter = Buffer.alloc(8);
  counter.writeBigUInt64BE(BigInt(step));
  const h = crypto.createHmac('sha1', key).update(counter).digest();
  const offset = h[h.length - 1] & 15;
  return String((h.readUInt32BE(offset) & 0x7fffffff) % 1_000_000).padStart(6, '0');
}
const now = () => Math.floor(Date.now() / 1000 / 30);

run(async () => {
  const cfg = JSON.parse(process.argv[2] || 'null');
  if (!cfg || !cfg.base_url) throw new Error("usage: mfa.js '<config JSON>'");
  const browser = await launch();
  const out = { browser: browser.version() };
  const errors = [];
  /** A fresh profile without JavaScript (the pages need none). */
  async function person() {
    const context = await browser.newContext({ javaScriptEnabled: false });
    const page = await context.newPage();
    page.on('console', (m) => {
      if (m.type() !== 'error') return;
      const at = m.location().url;
      errors.push(at ? `${m.text()} at ${new URL(at).pathname}` : m.text());
    });
    return page;
  }
  async function click(page, name) {
    await Promise.all([page.waitForLoadState('load'), page.getByRole('button', { name, exact: true }).click()]);
    await page.waitForLoadState('load');
  }
  async function signIn(page) {
    await page.goto(`${cfg.base_url}/account`);
    await page.getByLabel('E-mail', { exact: true }).fill(cfg.email);
    await page.getByLabel('Password', { exact: true }).fill(cfg.password);
    await click(page, 'Sign in');
  }
  try {
    // Signed in with the password alone, the person sets up an app from their account page.
    const a = await person();
    await signIn(a);
    await click(a, 'Set up an authenticator app');
    const qr = a.locator('.qr svg');
    out.setup = {
      h1: (await a.locator('h1').innerText()).trim(),
      qr_visible: await qr.isVisible(),
      qr_box: await qr.boundingBox(),
      otpauth: await a.locator('#otpauth').getAttribute('href'),
      code_label: (await a.locator('label[for="code"]').innerText()).trim(),
    };
    await screenshot(a, cfg.screenshots.setup);
    const key = base32Decode(await a.locator('#totp-secret').innerText());
    await a.getByLabel('Code', { exact: true }).fill(totp(key, now()));
    await click(a, 'Confirm');
    out.codes = await a.locator('#recovery-codes code').allInnerTexts();
    await screenshot(a, cfg.screenshots.codes);
    await Promise.all([a.waitForURL((u) => u.pathname === '/account'), a.locator('#continue').click()]);
    out.account = (await a.locator('section[aria-labelledby="mfa-h"]').innerText()).trim();

    // In another browser the password now leads to the second step; a wrong code is refused.
    const b = await person();
    await signIn(b);
    const second = { h1: (await b.locator('h1').innerText()).trim(), path: new URL(b.url()).pathname };
    const good = totp(key, now() + 1);
    await b.getByLabel('Code', { exact: true }).fill(good === '000000' ? '111111' : '000000');
    await click(b, 'Continue');
    second.error = (await b.locator('[role=alert]').innerText()).trim();
    await b.getByLabel('Code', { exact: true }).fill(good);
    await click(b, 'Continue');
    second.landed = new URL(b.url()).pathname;
    second.page_h1 = (await b.locator('h1').innerText()).trim();
    out.second = second;
    out.console_errors = errors;
  } finally {
    await browser.close();
  }
  return out;
});
