// Smoke test of the browser tooling: node smoke.js <base_url> <screenshot.png>
// Opens /healthz and the discovery document in headless Chromium and prints one JSON line:
// {"browser": version, "healthz": {status, content_type, text}, "discovery": {...}, "screenshot": path}
'use strict';

const { launch, screenshot, visit, run } = require('./browser');

run(async () => {
  const [baseUrl, shot] = process.argv.slice(2);
  if (!baseUrl || !shot) throw new Error('usage: smoke.js <base_url> <screenshot.png>');
  const browser = await launch();
  try {
    const page = await browser.newPage();
    const summary = (v) => ({ status: v.status, content_type: v.headers['content-type'] || null, text: v.text });
    const healthz = summary(await visit(page, `${baseUrl}/healthz`));
    const discovery = summary(await visit(page, `${baseUrl}/.well-known/openid-configuration`));
    await screenshot(page, shot);
    return { browser: browser.version(), healthz, discovery, screenshot: shot };
  } finally {
    await browser.close();
  }
});
