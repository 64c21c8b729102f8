// Shared helpers for the testkit's browser scripts: a headless Chromium driven by the pinned
// playwright-core. The Rust side (crates/testkit/src/tools.rs, run_node_script) installs the
// packages, finds or installs Chromium and passes its path in CHROMIUM.
'use strict';

const { chromium } = require('playwright-core');

/**
 * Launches the headless Chromium named by $CHROMIUM; close it with `browser.close()`. `extraArgs`
 * are appended to the default command-line switches (e.g. `--explicitly-allowed-ports=9`).
 */
async function launch(options = {}) {
  const executablePath = process.env.CHROMIUM;
  if (!executablePath) throw new Error('CHROMIUM is not set (run this through run_node_script)');
  const { extraArgs = [], ...rest } = options;
  return chromium.launch({
    executablePath,
    headless: true,
    args: ['--no-sandbox', '--disable-dev-shm-usage', ...extraArgs],
    timeout: 60_000,
    ...rest,
  });
}

/** Saves a full-page PNG of `page` at `path`; returns the path. */
async function screenshot(page, path) {
  await page.screenshot({ path, fullPage: true, type: 'png' });
  return path;
}

/**
 * Opens `url` in `page` and returns what the browser got and rendered: the HTTP status, the
 * response headers (lower-case names) and the body's visible text.
 */
async function visit(page, url) {
  const response = await page.goto(url, { waitUntil: 'load', timeout: 30_000 });
  if (!response) throw new Error(`no response for ${url}`);
  return {
    url,
    status: response.status(),
    headers: await response.allHeaders(),
    text: await page.evaluate(() => document.body.innerText),
  };
}

/**
 * Answers every request of `page` whose URL starts with `prefix` with a 200 HTML `body`, inside the
 * browser (CDP `Fetch`), so nothing needs to listen there. Unlike `page.route`, which by design
 * never sees the target of a redirect, this catches the hop a 303 leads to (e.g. an OAuth
 * callback). Returns the list the URLs of the answered documents are appended to.
 */
async function answerInBrowser(page, prefix, body = '<!doctype html><title>OK</title><p>OK</p>') {
  const cdp = await page.context().newCDPSession(page);
  const documents = [];
  cdp.on('Fetch.requestPaused', (e) => {
    if (e.resourceType === 'Document') documents.push(e.request.url);
    cdp
      .send('Fetch.fulfillRequest', {
        requestId: e.requestId,
        responseCode: 200,
        responseHeaders: [{ name: 'content-type', value: 'text/html; charset=utf-8' }],
        body: Buffer.from(body).toString('base64'),
      })
      .catch(() => {}); // the page went away meanwhile
  });
  await cdp.send('Fetch.enable', { patterns: [{ urlPattern: `${prefix}*`, requestStage: 'Request' }] });
  return documents;
}

/** Runs `main`, printing its result as one JSON line; exits non-zero with the error otherwise. */
function run(main) {
  main().then(
    (result) => process.stdout.write(JSON.stringify(result) + '\n'),
    (err) => {
      process.stderr.write(`${(err && err.stack) || err}\n`);
      process.exit(1);
    },
  );
}

module.exports = { launch, screenshot, visit, run, answerInBrowser };
