// What the browser scripts share: Chromium started the way this machine needs it (Debian's
// chromium, headless, no sandbox, nothing fetched on its own), steps that log their time and name
// what failed, polling, and one wrapper that runs a script's pages in a zh-CN context, fails on
// any CSP violation or uncaught script error, keeps a screenshot of the page a step failed on and
// ends the process with the exit code crates/salesflow/tests/cli.rs reads.

import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { chromium } from 'playwright-core';

export const TIMEOUT = 15_000;

/** The step running now, how many have started, and what the pages raised on the way. */
const run = { step: 'start', number: 0, problems: [] };

export function log(...args) {
  console.log(...args);
}

export function fail(message) {
  throw new Error(message);
}

export const path = (page) => new URL(page.url()).pathname;

/** Runs one named step: logged with its time; a failure names the step. */
export async function step(name, body) {
  run.step = name;
  run.number += 1;
  const started = Date.now();
  log(`▶ ${name}`);
  try {
    await body();
  } catch (e) {
    throw new Error(`step "${name}" failed: ${e.message}`);
  }
  log(`  ok (${Date.now() - started} ms)`);
}

/** Polls `probe` until it returns something truthy; fails with `what` after `timeout` ms. */
export async function until(what, probe, timeout = TIMEOUT) {
  const deadline = Date.now() + timeout;
  let last;
  for (;;) {
    try {
      const v = await probe();
      if (v) return v;
    } catch (e) {
      last = e;
    }
    if (Date.now() > deadline) fail(`timed out waiting for ${what}${last ? ` (last error: ${last.message})` : ''}`);
    await new Promise((r) => setTimeout(r, 150));
  }
}

/** The arguments after the script's name, or the usage line and exit code 2. */
export function args(script, names) {
  const values = process.argv.slice(2);
  if (values.length < names.length || values.some((v) => !v)) {
    console.error(`usage: node ${script} ${names.map((n) => `<${n}>`).join(' ')}`);
    process.exit(2);
  }
  return values;
}

export function launchChromium() {
  return chromium.launch({
    executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--no-first-run',
    ],
  });
}

/**
 * A page in a fresh zh-CN (Asia/Shanghai) context whose CSP violations and uncaught script
 * errors fail the run, and whose failed requests are logged.
 */
export async function watchedPage(browser, viewport = { width: 1600, height: 1000 }) {
  const context = await browser.newContext({ viewport, locale: 'zh-CN', timezoneId: 'Asia/Shanghai' });
  context.setDefaultTimeout(TIMEOUT);
  const page = await context.newPage();
  page.on('console', (msg) => {
    if (msg.type() !== 'error') return;
    const text = msg.text();
    if (text.startsWith('Failed to load resource')) return; // logged with its URL below
    log(`  [console] ${text}`);
    if (/Content Security Policy/i.test(text)) run.problems.push(`CSP violation on ${path(page)}: ${text}`);
  });
  page.on('pageerror', (e) => {
    log(`  [page error] ${e.message}`);
    run.problems.push(`uncaught script error on ${path(page)}: ${e.message}`);
  });
  page.on('response', (r) => {
    if (r.status() >= 400) log(`  [http] ${r.request().method()} ${new URL(r.url()).pathname} → ${r.status()}`);
  });
  return page;
}

/**
 * Runs `body(page, browser)` on a `watchedPage`, then exits: 0 when every
 * step passed and the pages raised no CSP violation or script error, 1 otherwise, with the
 * failed step, the page it was on and a screenshot `failure-<nn>-<step>.png` in `artefacts`.
 */
export async function runPages({ name, artefacts, viewport = { width: 1600, height: 1000 }, body }) {
  mkdirSync(artefacts, { recursive: true });
  const browser = await launchChromium();
  const page = await watchedPage(browser, viewport);
  const context = page.context();
  let code = 0;
  try {
    await body(page, browser);
    if (run.problems.length) {
      run.step = 'no script errors or CSP violations';
      fail(`the pages raised ${run.problems.length} problem(s):\n  - ${run.problems.join('\n  - ')}`);
    }
    log(`✔ ${name} passed; screenshots in ${artefacts}`);
  } catch (e) {
    code = 1;
    const words = run.step.replace(/[^A-Za-z0-9]+/g, '-').replace(/^-|-$/g, '').toLowerCase().slice(0, 60);
    const shot = join(artefacts, `failure-${String(run.number).padStart(2, '0')}-${words || 'step'}.png`);
    await page.screenshot({ path: shot, fullPage: true }).catch(() => {});
    console.error(`✘ ${e.message}`);
    console.error(`  at ${page.url()}`);
    console.error(`  screenshot: ${shot}`);
    if (run.problems.length) console.error(`  also: ${run.problems.join('; ')}`);
  } finally {
    await context.close().catch(() => {});
    await browser.close().catch(() => {});
  }
  process.exit(code);
}
