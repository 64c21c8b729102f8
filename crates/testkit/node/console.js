// The web console as an admin uses it: node console.js '<config JSON>' (built by
// crates/testkit/tests/console_browser.rs). The config holds base_url, email, password, the
// tenant admin's email and password, a group with nested groups, and screenshots {dashboard,
// tenants, registrations, phone, tenant_form, group}.
// Prints one JSON line: what each page showed (title, sections, stats, whether the chart image
// loaded, console errors — a CSP violation is one), the approval's outcome and the tenant admin's
// navigation.
'use strict';

const { launch, screenshot, run } = require('./browser');

run(async () => {
  const cfg = JSON.parse(process.argv[2] || 'null');
  if (!cfg || !cfg.base_url) throw new Error("usage: console.js '<config JSON>'");
  const browser = await launch();
  const out = { browser: browser.version() };

  async function signedIn(email, password, viewport) {
    const context = await browser.newContext({ viewport });
    const page = await context.newPage();
    const errors = [];
    page.on('console', (m) => {
      if (m.type() === 'error' && !(m.location().url || '').endsWith('/favicon.ico')) errors.push(m.text());
    });
    page.on('pageerror', (e) => errors.push(String(e)));
    await page.goto(`${cfg.base_url}/console`, { waitUntil: 'load' });
    await page.fill('input[name=email]', email);
    await page.fill('input[name=password]', password);
    await Promise.all([page.waitForURL((u) => u.pathname === '/console'), page.click('button[type=submit]')]);
    await page.waitForLoadState('load');
    return { context, page, errors };
  }

  const nav = async (page) => (await page.locator('header nav a').allInnerTexts()).map((t) => t.trim());

  // The super admin at 1280 px.
  const admin = await signedIn(cfg.email, cfg.password, { width: 1280, height: 900 });
  const { page } = admin;
  const chart = page.locator('figure.chart img');
  await chart.evaluate((img) => (img.complete ? null : new Promise((r) => img.addEventListener('load', r))));
  out.dashboard = {
    title: await page.title(),
    nav: await nav(page),
    tenants: Number((await page.locator('#stat-tenants').innerText()).trim()),
    chart_width: await chart.evaluate((img) => img.naturalWidth),
  };
  await screenshot(page, cfg.screenshots.dashboard);
  await page.goto(`${cfg.base_url}/console/tenants`, { waitUntil: 'load' });
  out.tenants = { rows: await page.locator('table.list tbody tr').count() };
  await screenshot(page, cfg.screenshots.tenants);
  await page.fill('input[name=search]', 'acme');
  await Promise.all([page.waitForURL((u) => u.search.includes('search=acme')), page.press('input[name=search]', 'Enter')]);
  out.tenants.searched = await page.locator('table.list tbody tr').count();

  // The registration queue: approve with notes, by keyboard-usable form controls.
  await page.goto(`${cfg.base_url}/console/registrations`, { waitUntil: 'load' });
  await screenshot(page, cfg.screenshots.registrations);
  const first = page.locator('article.request').first();
  await first.locator('input[name=notes]').fill('Checked in the browser');
  await Promise.all([page.waitForLoadState('load'), first.locator('button', { hasText: 'Approve' }).click()]);
  await page.waitForSelector('#client_id');
  out.approve = {
    h1: (await page.locator('h1').innerText()).trim(),
    client_id: (await page.locator('#client_id').innerText()).trim(),
    secret_shown: (await page.locator('#client_secret').count()) === 1,
  };
  // A tenant through its forms: the branding's live preview (console.js) in the frame, then
  // created, changed and deleted (confirmed), each answered with its message.
  await page.goto(`${cfg.base_url}/console/tenants/new`, { waitUntil: 'load' });
  await page.fill('#name', 'Stark Industries');
  await page.fill('#branding', '{"display_name": "Stark sign-in", "primary_color": "#b00020"}');
  const preview = page.frameLocator('iframe[name=preview]');
  await preview.locator('h1', { hasText: 'Stark sign-in' }).waitFor({ timeout: 15000 });
  out.tenant = {
    preview_h1: (await preview.locator('h1').innerText()).trim(),
    preview_button: await preview.locator('button[type=submit]').evaluate((b) => getComputedStyle(b).backgroundColor),
  };
  await screenshot(page, cfg.screenshots.tenant_form);
  const notice = async () => (await page.locator('.notice').innerText()).trim();
  await Promise.all([
    page.waitForURL((u) => u.search.includes('done=created')),
    page.getByRole('button', { name: 'Create', exact: true }).click(),
  ]);
  out.tenant.created = await notice();
  out.tenant.id = new URL(page.url()).pathname.split('/').pop();
  await Promise.all([page.waitForURL((u) => u.pathname.endsWith('/edit')), page.click('a.button:has-text("Edit")')]);
  await page.fill('#name', 'Stark Industries Ltd');
  await Promise.all([
    page.waitForURL((u) => u.search.includes('done=saved')),
    page.getByRole('button', { name: 'Save changes' }).click(),
  ]);
  out.tenant.saved = await notice();
  out.tenant.h1 = (await page.locator('h1').innerText()).trim();
  await page.check('section.action input[name=confirm]');
  await Promise.all([
    page.waitForURL((u) => u.search.includes('done=deleted')),
    page.locator('section.action button', { hasText: 'Delete' }).click(),
  ]);
  out.tenant.deleted = await notice();

  // A create, change and delete round trip for every other resource, as a person fills the
  // forms: fields found by their API names, the confirmation ticked before the delete.
  out.round_trips = {};
  for (const r of cfg.round_trips) {
    await page.goto(`${cfg.base_url}${r.path}/new`, { waitUntil: 'load' });
    for (const [name, value] of Object.entries(r.fields)) {
      const el = page.locator(`form.resource [name="${name}"]`).first();
      const tag = await el.evaluate((e) => `${e.tagName}:${e.type}`);
      if (tag.startsWith('SELECT')) await el.selectOption(value);
      else if (tag.endsWith(':checkbox')) await page.locator(`form.resource [name="${name}"][value="${value}"]`).check();
      else await el.fill(value);
    }
    await Promise.all([
      page.waitForURL((u) => u.search.includes('done=created')),
      page.getByRole('button', { name: 'Create', exact: true }).click(),
    ]);
    const trip = { created: await notice(), id: new URL(page.url()).pathname.split('/').pop() };
    await Promise.all([page.waitForURL((u) => u.pathname.endsWith('/edit')), page.click('a.button:has-text("Edit")')]);
    await page.fill('form.resource [name="name"], form.resource [name="email"]', r.renamed);
    await Promise.all([
      page.waitForURL((u) => u.search.includes('done=saved')),
      page.getByRole('button', { name: 'Save changes' }).click(),
    ]);
    trip.saved = await notice();
    trip.h1 = (await page.locator('h1').innerText()).trim();
    const del = page.locator('section.action').filter({ has: page.locator('button', { hasText: 'Delete' }) });
    await del.locator('input[name=confirm]').check();
    await Promise.all([page.waitForURL((u) => u.search.includes('done=deleted')), del.locator('button').click()]);
    trip.deleted = await notice();
    out.round_trips[r.path] = trip;
  }

  // Every section of the navigation, and the first detail page of each list.
  out.pages = {};
  for (const href of await page.locator('header nav a').evaluateAll((as) => as.map((a) => a.getAttribute('href')))) {
    const r = await page.goto(`${cfg.base_url}${href}`, { waitUntil: 'load' });
    const entry = { status: r.status(), h1: (await page.locator('h1').innerText()).trim() };
    const first = page.locator('table.list tbody tr td a').first();
    if (href !== '/console' && (await first.count()) === 1) {
      await Promise.all([page.waitForLoadState('load'), first.click()]);
      entry.detail = (await page.locator('h1').innerText()).trim();
    }
    out.pages[href] = entry;
  }

  // A group's nesting as a tree.
  await page.goto(`${cfg.base_url}/console/groups/${cfg.group}`, { waitUntil: 'load' });
  out.group = {
    nested: await page.locator('#nested td a').allInnerTexts(),
    indented: await page.locator('#nested td.depth-2').count(),
    members: await page.locator('#members tbody tr').count(),
  };
  await screenshot(page, cfg.screenshots.group);
  out.admin_errors = admin.errors;

  // A phone: the same dashboard, nothing wider than the screen.
  const phone = await signedIn(cfg.email, cfg.password, { width: 390, height: 844 });
  out.phone = {
    overflow: await phone.page.evaluate(() => document.documentElement.scrollWidth > window.innerWidth + 1),
  };
  await screenshot(phone.page, cfg.screenshots.phone);

  // A tenant admin: no partners section.
  const ta = await signedIn(cfg.tenant_admin_email, cfg.tenant_admin_password, { width: 1280, height: 900 });
  out.tenant_admin = { nav: await nav(ta.page) };
  const partners = await ta.page.goto(`${cfg.base_url}/console/partners`, { waitUntil: 'load' });
  out.tenant_admin.partners_status = partners.status();
  out.tenant_admin_errors = ta.errors.filter((e) => !e.includes('403'));

  await browser.close();
  return out;
});
