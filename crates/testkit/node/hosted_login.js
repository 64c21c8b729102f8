// The hosted login and consent pages as a person uses them: node hosted_login.js '<config JSON>'
// (built by crates/testkit/tests/hosted_login_browser.rs). The config holds base_url,
// callback_prefix (the relying party's origin: nothing listens there, its requests are answered
// here by a route), verifier (hashed into the S256 code_challenge appended to every authorization
// URL), email, password, wrong_password, screenshots {login, consent} and urls {login, sso,
// consent, consent_again, deny, consented_elsewhere, wrong_password, csrf}.
// Prints one JSON line: {pkce, browser, login, sso, consent, consent_again, deny,
// consented_elsewhere, wrong_password, csrf: {missing_cookie, forged_token}}. Each step reports the
// main-frame navigations it made ("GET /login", "POST /login", "GET callback", …) and the query of
// the callback it reached (or null).
'use strict';

const crypto = require('node:crypto');
const { launch, screenshot, run, answerInBrowser } = require('./browser');

const CALLBACK_PAGE = '<!doctype html><title>Callback</title><p>Back at the application.</p>';

run(async () => {
  const cfg = JSON.parse(process.argv[2] || 'null');
  if (!cfg || !cfg.urls) throw new Error("usage: hosted_login.js '<config JSON>'");
  const challenge = crypto.createHash('sha256').update(cfg.verifier, 'ascii').digest('base64url');
  const url = (name) => `${cfg.urls[name]}&code_challenge=${challenge}`;
  const isCallback = (u) => u.startsWith(cfg.callback_prefix);
  const pathOf = (u) => new URL(u).pathname;

  // Chromium refuses port 9 (discard) as unsafe before any route sees the request; the callback
  // origin's port is allowed explicitly.
  const port = new URL(cfg.callback_prefix).port;
  const browser = await launch({ extraArgs: port ? [`--explicitly-allowed-ports=${port}`] : [] });
  const out = { pkce: { verifier: cfg.verifier, challenge }, browser: browser.version() };

  /** A fresh browser profile (no cookie) whose callback requests are answered with a small page. */
  async function profile(options = {}) {
    const context = await browser.newContext(options);
    const page = await context.newPage();
    const callbacks = await answerInBrowser(page, cfg.callback_prefix, CALLBACK_PAGE);
    const nav = [];
    let lastCallback = null;
    const consoleErrors = [];
    const assets = {};
    page.on('request', (r) => {
      if (r.isNavigationRequest() && r.frame() === page.mainFrame()) {
        nav.push(`${r.method()} ${isCallback(r.url()) ? 'callback' : pathOf(r.url())}`);
        if (isCallback(r.url())) lastCallback = r;
      }
    });
    page.on('response', (r) => {
      if (!isCallback(r.url()) && pathOf(r.url()).startsWith('/assets/')) assets[pathOf(r.url())] = r.status();
    });
    page.on('console', (m) => {
      if (m.type() !== 'error') return;
      const at = m.location().url;
      consoleErrors.push(at ? `${m.text()} at ${isCallback(at) ? 'callback' : pathOf(at)}` : m.text());
    });
    page.on('pageerror', (e) => consoleErrors.push(String(e)));
    const cookies = async () => {
      const all = await context.cookies(cfg.base_url);
      return Object.fromEntries(
        all.map((c) => [c.name, { httpOnly: c.httpOnly, sameSite: c.sameSite, path: c.path, secure: c.secure, domain: c.domain, expires: c.expires }]),
      );
    };
    const cookieNames = async () => Object.keys(await cookies()).sort();
    /** The request whose redirect led to the last callback, and its answer. */
    const redirectToCallback = async () => {
      const from = lastCallback && lastCallback.redirectedFrom();
      if (!from) return null;
      const response = await from.response();
      return { method: from.method(), path: pathOf(from.url()), status: response && response.status() };
    };
    /** Empties the navigation and console logs and returns what they held. */
    const take = () => ({ navigations: nav.splice(0), console_errors: consoleErrors.splice(0) });
    const query = () => (isCallback(page.url()) ? Object.fromEntries(new URL(page.url()).searchParams) : null);
    /** Clicks `selector` and waits until the browser is at the callback. */
    const submitToCallback = async (selector) => {
      await Promise.all([page.waitForURL((u) => isCallback(u.href), { timeout: 15_000 }), page.locator(selector).click()]);
    };
    /** Clicks `selector` and returns the response to the form's POST, once its page loaded. */
    const submitForm = async (selector, path) => {
      const [response] = await Promise.all([
        page.waitForResponse((r) => r.request().method() === 'POST' && !isCallback(r.url()) && pathOf(r.url()) === path),
        page.locator(selector).click(),
      ]);
      await page.waitForLoadState('load');
      return response;
    };
    return { context, page, callbacks, redirectToCallback, cookies, cookieNames, take, query, submitToCallback, submitForm, assets };
  }

  const headersOf = async (response) => {
    const h = await response.allHeaders();
    const pick = ['content-security-policy', 'x-content-type-options', 'referrer-policy', 'cache-control', 'x-frame-options'];
    return Object.fromEntries(pick.map((k) => [k, h[k] ?? null]));
  };

  /** What a person sees of the login page, and what makes it up. */
  async function loginPage(p, response) {
    const { page } = p;
    const fields = [];
    for (const input of await page.locator('form input:not([type=hidden])').all()) {
      const id = await input.getAttribute('id');
      const label = page.locator(`label[for="${id}"]`);
      fields.push({
        name: await input.getAttribute('name'),
        type: await input.getAttribute('type'),
        label: (await label.count()) === 1 ? (await label.innerText()).trim() : null,
        label_visible: (await label.count()) === 1 && (await label.isVisible()),
        visible: await input.isVisible(),
      });
    }
    const hidden = [];
    for (const input of await page.locator('form input[type=hidden]').all()) hidden.push(await input.getAttribute('name'));
    return {
      status: response.status(),
      path: pathOf(page.url()),
      headers: await headersOf(response),
      title: await page.title(),
      h1: (await page.locator('h1').innerText()).trim(),
      lead: (await page.locator('p.lead').innerText()).trim(),
      fields,
      hidden,
      submit: (await page.locator('button[type=submit]').allInnerTexts()).map((t) => t.trim()),
      scripts: await page.locator('script').count(),
      stylesheet_status: p.assets['/assets/scaikey.css'] ?? null,
      csrf_cookie: (await p.cookieNames()).includes('scaikey_csrf'),
    };
  }

  /** Fills the login form through its labels, as a person would. */
  async function fillLogin(page, email, password) {
    await page.getByLabel('E-mail').fill(email);
    await page.getByLabel('Password').fill(password);
  }

  try {
    // 1–2. Sign in to the first-party application, with JavaScript off (the pages need none).
    const a = await profile({ javaScriptEnabled: false });
    const first = await a.page.goto(url('login'));
    const login = { page: await loginPage(a, first) };
    await screenshot(a.page, cfg.screenshots.login);
    await fillLogin(a.page, cfg.email, cfg.password);
    await a.submitToCallback('button[type=submit]');
    // The callback was reached by the 303 that answered the form's POST.
    login.post = await a.redirectToCallback();
    const log = a.take();
    login.page.console_errors = log.console_errors;
    login.navigations = log.navigations;
    login.callback = a.query();
    login.cookies = await a.cookies();
    out.login = login;

    // 3. The same request again: SSO, straight to the callback.
    await a.page.goto(url('sso'));
    out.sso = { ...a.take(), callback: a.query() };

    // 4. A third-party application: the consent page, Allow.
    const consentResponse = await a.page.goto(url('consent'));
    const shown = a.take();
    const page = a.page;
    const buttons = [];
    for (const b of await page.locator('form button[type=submit]').all()) {
      buttons.push([(await b.innerText()).trim(), await b.getAttribute('value')]);
    }
    const consentPage = {
      status: consentResponse.status(),
      headers: await headersOf(consentResponse),
      title: await page.title(),
      h1: (await page.locator('h1').innerText()).trim(),
      lead: (await page.locator('p.lead').innerText()).trim(),
      scopes: (await page.locator('ul.scopes li').allInnerTexts()).map((t) => t.trim()),
      buttons,
      console_errors: shown.console_errors,
    };
    await screenshot(page, cfg.screenshots.consent);
    await a.submitToCallback('button[name=decision][value=allow]');
    out.consent = { navigations: shown.navigations, page: consentPage, after: a.take().navigations, callback: a.query() };
    await a.page.goto(url('consent_again'));
    out.consent_again = { ...a.take(), callback: a.query() };

    // A second browser: sign in, consent for one more scope, Deny.
    const b = await profile({ javaScriptEnabled: false });
    const cookiesBefore = await b.cookieNames();
    await b.page.goto(url('deny'));
    await fillLogin(b.page, cfg.email, cfg.password);
    await Promise.all([
      b.page.waitForURL((u) => pathOf(u.href) === '/consent', { timeout: 15_000 }),
      b.page.locator('button[type=submit]').click(),
    ]);
    const scopes = (await b.page.locator('ul.scopes li').allInnerTexts()).map((t) => t.trim());
    await b.submitToCallback('button[name=decision][value=deny]');
    out.deny = { ...b.take(), cookies_before: cookiesBefore, scopes, callback: b.query() };
    await b.page.goto(url('consented_elsewhere'));
    out.consented_elsewhere = { ...b.take(), callback: b.query() };

    // 5. A wrong password, then the right one on the page that came back.
    const c = await profile({ javaScriptEnabled: false });
    await c.page.goto(url('wrong_password'));
    await fillLogin(c.page, cfg.email, cfg.wrong_password);
    const refused = await c.submitForm('button[type=submit]', '/login');
    const wrong = {
      ...c.take(),
      status: refused.status(),
      path: pathOf(c.page.url()),
      title: await c.page.title(),
      h1: (await c.page.locator('h1').innerText()).trim(),
      alert: (await c.page.locator('[role=alert]').innerText()).trim(),
      email_value: await c.page.getByLabel('E-mail').inputValue(),
      password_value: await c.page.getByLabel('Password').inputValue(),
      cookie_names: await c.cookieNames(),
    };
    await c.page.getByLabel('Password').fill(cfg.password);
    await c.submitToCallback('button[type=submit]');
    wrong.callback = c.query();
    out.wrong_password = wrong;

    // 6. CSRF: the CSRF cookie deleted before submitting, or the form's token forged (this one
    // needs JavaScript to edit the hidden field).
    out.csrf = {};
    for (const [name, tamper] of [
      ['missing_cookie', (p) => p.context.clearCookies({ name: 'scaikey_csrf' })],
      ['forged_token', (p) => p.page.locator('input[name=csrf]').evaluate((e) => { e.value = 'A'.repeat(43); })],
    ]) {
      const p = await profile({ javaScriptEnabled: name === 'forged_token' });
      await p.page.goto(url('csrf'));
      const before = await p.cookieNames();
      await tamper(p);
      await fillLogin(p.page, cfg.email, cfg.password);
      const r = await p.submitForm('button[type=submit]', '/login');
      out.csrf[name] = {
        ...p.take(),
        cookies_before_submit: before,
        status: r.status(),
        path: pathOf(p.page.url()),
        text: (await p.page.locator('body').innerText()).trim(),
        cookie_names: await p.cookieNames(),
        callback: p.callbacks[0] ?? null,
      };
    }
    return out;
  } finally {
    await browser.close();
  }
});
