// The customer's quote page and the deal page's selling panels, in Chromium: a rep's quote is
// rejected by the customer on its public link ("价格太高"), the lower-tier version that follows is
// accepted, a contract is made, and the deal page shows quotes and contract in both languages.
//
//   node tests/browser/quote.mjs <base url> <admin API token> <password> <artefact dir>
//
// The base URL is a running `salesflow serve` over `salesflow demo` data; the token and the
// password are the ones `salesflow demo` printed. The records are made through the REST API;
// the customer and the rep act in the browser. Screenshots: quote-zh.png, quote-en.png,
// quote-rejected-zh.png, quote-accepted-zh.png, deal-selling-zh.png, deal-selling-en.png, and
// failure-<step>.png when a step fails. Run by crates/salesflow/tests/cli.rs.

import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { chromium } from 'playwright-core';

const [base, token, password, artefacts] = process.argv.slice(2);
if (!base || !token || !password || !artefacts) {
  console.error('usage: node quote.mjs <base url> <admin API token> <password> <artefact dir>');
  process.exit(2);
}
mkdirSync(artefacts, { recursive: true });
const ADMIN = 'admin@salesflow.example.com';
const TIMEOUT = 15_000;
const problems = [];
let currentStep = 'start';

function fail(message) {
  throw new Error(`${currentStep}: ${message}`);
}

async function step(name, body) {
  currentStep = name;
  const started = Date.now();
  await body();
  console.log(`✔ ${name} (${Date.now() - started} ms)`);
}

async function api(method, path, body) {
  const res = await fetch(`${base}${path}`, {
    method,
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  const json = text ? JSON.parse(text) : null;
  if (!res.ok) fail(`${method} ${path} answered ${res.status}: ${text}`);
  return json;
}

const line = (name, minor) => [{ name, unit: '套', quantity: 1, unit_price: { minor, currency: 'CNY' }, tax_rate_bp: 600 }];
const offer = {
  currency: 'CNY',
  options: [
    { key: 'basic', name: '基础版', tier: 'basic', lines: line('基础版', 3_000_000) },
    { key: 'standard', name: '标准版', tier: 'standard', lines: line('标准版', 8_000_000) },
    { key: 'professional', name: '专业版', tier: 'professional', lines: line('专业版', 15_000_000) },
  ],
  recommended: 'professional',
  payment_terms: '签约后 30 日内支付 50%，验收后支付 50%',
  after_sales_terms: '一年免费维护',
  valid_until: '2099-12-31',
  language: 'zh-CN',
};

async function status(page) {
  return page.locator('[data-testid="quote-status"]').getAttribute('data-status');
}

async function run(page) {
  let deal;
  let link1;
  await step('a deal with a sent quote of three options (API)', async () => {
    const processes = await api('GET', '/api/v1/processes');
    const seed = processes.items.find((p) => p.key === 'seed-five-stage.zh-CN');
    if (!seed) fail('the seed process is installed');
    const account = await api('POST', '/api/v1/accounts', { name: `浏览器测试客户 ${Date.now()}` });
    deal = await api('POST', '/api/v1/deals', { title: 'CRM 采购', account_id: account.id, process_id: seed.id });
    await api('PUT', `/api/v1/deals/${deal.id}/needs`, {
      pain_points: ['报表靠手工'], requirements: ['报表'], budget: { minor: 10_000_000, currency: 'CNY' }, purchase_intent: 4,
    });
    const v1 = await api('POST', `/api/v1/deals/${deal.id}/quotes`, offer);
    link1 = (await api('POST', `/api/v1/deals/${deal.id}/quotes/1/send`, { version: v1.version })).link;
  });

  await step('the customer opens the link without signing in (zh-CN, then English)', async () => {
    await page.goto(`${base}${link1}`);
    if ((await page.locator('html').getAttribute('lang')) !== 'zh-CN') fail('the quote speaks the customer’s language');
    if ((await status(page)) !== 'sent') fail(`status ${await status(page)}`);
    const options = await page.locator('[data-option]').count();
    if (options !== 3) fail(`${options} options shown, expected 3`);
    await page.screenshot({ path: join(artefacts, 'quote-zh.png'), fullPage: true });
    await page.locator('a[href="?lang=en"]').click();
    await page.waitForURL(/lang=en/);
    if ((await page.locator('html').getAttribute('lang')) !== 'en') fail('the English page');
    await page.screenshot({ path: join(artefacts, 'quote-en.png'), fullPage: true });
    await page.goto(`${base}${link1}`);
  });

  await step('the customer rejects the quote with a reason', async () => {
    await page.locator('#reason').fill('价格太高');
    await Promise.all([page.waitForURL(`${base}${link1}`), page.locator('[data-testid="reject"]').click()]);
    if ((await status(page)) !== 'rejected') fail(`status ${await status(page)} after rejecting`);
    if ((await page.locator('[data-testid^="accept-"]').count()) !== 0) fail('answered quotes offer no buttons');
    await page.screenshot({ path: join(artefacts, 'quote-rejected-zh.png'), fullPage: true });
  });

  let link2;
  await step('the lower tier waits as version 2; the rep sends it (API)', async () => {
    const quotes = (await api('GET', `/api/v1/deals/${deal.id}/quotes`)).items;
    const v2 = quotes.find((q) => q.number === 2);
    if (!v2 || v2.status !== 'draft') fail(`version 2 drafted: ${JSON.stringify(quotes.map((q) => [q.number, q.status]))}`);
    const keys = v2.content.options.map((o) => o.key).join(',');
    if (keys !== 'basic,standard') fail(`version 2 offers ${keys}`);
    link2 = (await api('POST', `/api/v1/deals/${deal.id}/quotes/2/send`, { version: v2.version })).link;
  });

  await step('the customer accepts the standard option', async () => {
    await page.goto(`${base}${link2}`);
    await Promise.all([page.waitForURL(`${base}${link2}`), page.locator('[data-testid="accept-standard"]').click()]);
    if ((await status(page)) !== 'accepted') fail(`status ${await status(page)} after accepting`);
    await page.screenshot({ path: join(artefacts, 'quote-accepted-zh.png'), fullPage: true });
    await api('POST', `/api/v1/deals/${deal.id}/contracts`, { quote_number: 2, seller: '星云软件', buyer: '浏览器测试客户' });
  });

  await step('the deal page shows quotes and contract, in Chinese and in English', async () => {
    await page.goto(`${base}/login`);
    await page.locator('input[name="email"]').fill(ADMIN);
    await page.locator('input[name="password"]').fill(password);
    await Promise.all([page.waitForURL((u) => !u.pathname.startsWith('/login')), page.locator('button[type="submit"]').click()]);
    await page.goto(`${base}/deals/${deal.id}`);
    const panel = page.locator('[data-testid="deal-selling"]');
    await panel.waitFor();
    for (const [n, s] of [['2', 'accepted'], ['1', 'rejected']]) {
      const found = await panel.locator(`li[data-quote="${n}"][data-status="${s}"]`).count();
      if (found !== 1) fail(`quote version ${n} shown as ${s}`);
    }
    if ((await panel.locator('[data-testid="deal-contracts"] li').count()) !== 1) fail('the contract is listed');
    await panel.screenshot({ path: join(artefacts, 'deal-selling-zh.png') });
    const english = page.locator('form[data-testid="locale-switch"] button[name="locale"][value="en"]');
    if (await english.count()) {
      await Promise.all([page.waitForLoadState('load'), english.click()]);
      await page.goto(`${base}/deals/${deal.id}`);
    }
    if ((await page.locator('html').getAttribute('lang')) !== 'en') fail('the deal page in English');
    await page.locator('[data-testid="deal-selling"]').screenshot({ path: join(artefacts, 'deal-selling-en.png') });
  });
}

const browser = await chromium.launch({
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
let code = 0;
const context = await browser.newContext({ viewport: { width: 1400, height: 1000 }, locale: 'zh-CN', timezoneId: 'Asia/Shanghai' });
context.setDefaultTimeout(TIMEOUT);
const page = await context.newPage();
page.on('console', (msg) => {
  if (msg.type() === 'error' && /Content Security Policy/i.test(msg.text())) problems.push(`CSP violation: ${msg.text()}`);
});
page.on('pageerror', (e) => problems.push(`uncaught script error: ${e.message}`));
try {
  await run(page);
  if (problems.length) {
    currentStep = 'no script errors or CSP violations';
    fail(problems.join('; '));
  }
  console.log(`✔ quote pages passed; screenshots in ${artefacts}`);
} catch (e) {
  code = 1;
  const slug = currentStep.replace(/[^A-Za-z0-9]+/g, '-').replace(/^-|-$/g, '').toLowerCase().slice(0, 60) || 'step';
  const shot = join(artefacts, `failure-${slug}.png`);
  await page.screenshot({ path: shot, fullPage: true }).catch(() => {});
  console.error(`✘ ${e.message}`);
  console.error(`  at ${page.url()}`);
  console.error(`  screenshot: ${shot}`);
} finally {
  await context.close().catch(() => {});
  await browser.close().catch(() => {});
}
process.exit(code);
