// Passkeys as a person uses them (contract §10), with a virtual authenticator in headless
// Chromium (the DevTools WebAuthn domain: CTAP2, internal transport, user verification):
// node passkeys.js '<config JSON>' (built by crates/testkit/tests/passkeys_browser.rs). The
// config holds base_url (http://localhost:<port>, the issuer: a relying-party ID must be a
// domain name), email, password, passkey_name, authorize_url (without its code_challenge),
// verifier, callback_prefix and screenshots {account, second}. Prints one JSON line.
'use strict';

const crypto = require('node:crypto');
const { launch, screenshot, run, answerInBrowser } = require('./browser');

run(async () => {
  const cfg = JSON.parse(process.argv[2] || 'null');
  if (!cfg || !cfg.base_url) throw new Error("usage: passkeys.js '<config JSON>'");
  const challenge = crypto.createHash('sha256').update(cfg.verifier, 'ascii').digest('base64url');
  const port = new URL(cfg.callback_prefix).port;
  const browser = await launch({
    // localhost must reach the server on 127.0.0.1 (it listens on IPv4 only).
    extraArgs: ['--host-resolver-rules=MAP localhost 127.0.0.1', `--explicitly-allowed-ports=${port}`],
  });
  const out = { browser: browser.version() };
  const errors = [];
  const context = await browser.newContext();
  const page = await context.newPage();
  page.on('console', (m) => {
    if (m.type() !== 'error') return;
    const at = m.location().url;
    errors.push(at ? `${m.text()} at ${new URL(at).pathname}` : m.text());
  });
  page.on('pageerror', (e) => errors.push(String(e)));
  const callbacks = await answerInBrowser(page, cfg.callback_prefix);

  // The person's device: a platform authenticator with user verification.
  const cdp = await context.newCDPSession(page);
  await cdp.send('WebAuthn.enable');
  const { authenticatorId } = await cdp.send('WebAuthn.addVirtualAuthenticator', {
    options: {
      protocol: 'ctap2',
      transport: 'internal',
      hasResidentKey: true,
      hasUserVerification: true,
      isUserVerified: true,
      automaticPresenceSimulation: true,
    },
  });

  async function click(name) {
    await Promise.all([page.waitForLoadState('load'), page.getByRole('button', { name, exact: true }).click()]);
    await page.waitForLoadState('load');
  }
  /** Clicks a button whose script submits the form, and waits for the next page. */
  async function clickAndNavigate(name) {
    await Promise.all([page.waitForNavigation({ timeout: 20_000 }), page.getByRole('button', { name, exact: true }).click()]);
    await page.waitForLoadState('load');
  }
  const mfaSection = async () => (await page.locator('section[aria-labelledby="mfa-h"]').innerText()).trim();

  try {
    // Signed in with the password, the person adds a passkey from the account page.
    await page.goto(`${cfg.base_url}/account`);
    await page.getByLabel('E-mail', { exact: true }).fill(cfg.email);
    await page.getByLabel('Password', { exact: true }).fill(cfg.password);
    await click('Sign in');
    await click('Add a passkey');
    out.setup = { h1: (await page.locator('h1').innerText()).trim(), path: new URL(page.url()).pathname };
    await page.getByLabel('Name', { exact: true }).fill(cfg.passkey_name);
    await clickAndNavigate('Create the passkey');
    out.added = { url: new URL(page.url()).pathname + new URL(page.url()).search, mfa: await mfaSection() };
    const creds = await cdp.send('WebAuthn.getCredentials', { authenticatorId });
    out.credentials = creds.credentials.length;
    await screenshot(page, cfg.screenshots.account);

    // Signing out and into an application: the password, then the passkey.
    await Promise.all([page.waitForLoadState('load'), page.locator('form[action="/oauth/logout"] button').click()]);
    await page.waitForLoadState('load');
    await page.goto(`${cfg.authorize_url}&code_challenge=${challenge}`);
    await page.getByLabel('E-mail', { exact: true }).fill(cfg.email);
    await page.getByLabel('Password', { exact: true }).fill(cfg.password);
    await click('Sign in');
    out.second = {
      h1: (await page.locator('h1').innerText()).trim(),
      lead: (await page.locator('.lead').innerText()).trim(),
      code_field: await page.getByLabel('Code', { exact: true }).count(),
    };
    await screenshot(page, cfg.screenshots.second);
    await Promise.all([
      page.waitForURL((u) => u.href.startsWith(cfg.callback_prefix), { timeout: 20_000 }),
      page.getByRole('button', { name: 'Use a passkey', exact: true }).click(),
    ]);
    out.callback = Object.fromEntries(new URL(page.url()).searchParams);
    out.callbacks = callbacks.length;

    // Back in the account (the SSO session), the person removes the passkey.
    await page.goto(`${cfg.base_url}/account`);
    await page.getByRole('button', { name: `Remove the passkey ${cfg.passkey_name}`, exact: true }).click();
    await page.waitForLoadState('load');
    out.removed = { url: new URL(page.url()).pathname + new URL(page.url()).search, mfa: await mfaSection() };

    // A tenant that requires a second factor and offers passkeys only: the first sign-in makes
    // the person create one before anything else.
    if (cfg.forced) {
      const ctx2 = await browser.newContext();
      const p2 = await ctx2.newPage();
      p2.on('pageerror', (e) => errors.push(String(e)));
      const cdp2 = await ctx2.newCDPSession(p2);
      await cdp2.send('WebAuthn.enable');
      await cdp2.send('WebAuthn.addVirtualAuthenticator', {
        options: { protocol: 'ctap2', transport: 'usb', hasResidentKey: false, hasUserVerification: true, isUserVerified: true, automaticPresenceSimulation: true },
      });
      await p2.goto(`${cfg.base_url}/account`);
      await p2.getByLabel('E-mail', { exact: true }).fill(cfg.forced.email);
      await p2.getByLabel('Password', { exact: true }).fill(cfg.forced.password);
      await Promise.all([p2.waitForLoadState('load'), p2.getByRole('button', { name: 'Sign in', exact: true }).click()]);
      await p2.waitForLoadState('load');
      const forced = { h1: (await p2.locator('h1').innerText()).trim(), lead: (await p2.locator('.lead').innerText()).trim() };
      await Promise.all([p2.waitForNavigation({ timeout: 20_000 }), p2.getByRole('button', { name: 'Create the passkey', exact: true }).click()]);
      await p2.waitForLoadState('load');
      forced.landed = new URL(p2.url()).pathname;
      forced.page_h1 = (await p2.locator('h1').innerText()).trim();
      out.forced = forced;
    }
    out.console_errors = errors;
  } finally {
    await browser.close();
  }
  return out;
});
