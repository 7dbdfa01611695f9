// The customer's quote page and the deal page's selling panels, in Chromium: a rep's quote is
// rejected by the customer on its public link ("价格太高"), the lower-tier version that follows is
// accepted, a contract is made, and the deal page shows quotes and contract in both languages;
// then the deal page's own forms take a second deal from needs to a ticked contract milestone.
//
//   node tests/browser/quote.mjs <base url> <admin API token> <password> <artefact dir>
//
// The base URL is a running `salesflow serve` over `salesflow demo` data; the token and the
// password are the ones `salesflow demo` printed. The records are made through the REST API;
// the customer and the rep act in the browser. Screenshots: quote-zh.png, quote-en.png,
// quote-rejected-zh.png, quote-accepted-zh.png, deal-selling-zh.png, deal-selling-en.png; the
// deal page's forms: deal-needs-error-zh.png, deal-draft-zh.png, deal-approved-zh.png,
// deal-sent-zh.png, price-book-error-zh.png, price-books-zh.png, deal-contract-zh.png,
// deal-contract-en.png; the draft editor: deal-draft-edit-zh.png, deal-draft-edited-zh.png,
// deal-quote-changes-zh.png; and failure-<step>.png when a step fails. Run by
// crates/salesflow/tests/cli.rs.

import { join } from 'node:path';
import { args, fail, runPages, step, watchedPage } from './harness.mjs';

const [base, token, password, artefacts] = args('quote.mjs', ['base url', 'token', 'password', 'artefact dir']);
const ADMIN = 'admin@salesflow.example.com';

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
    await page.goto(link1);
    if ((await page.locator('html').getAttribute('lang')) !== 'zh-CN') fail('the quote speaks the customer’s language');
    if ((await status(page)) !== 'sent') fail(`status ${await status(page)}`);
    const options = await page.locator('[data-option]').count();
    if (options !== 3) fail(`${options} options shown, expected 3`);
    await page.screenshot({ path: join(artefacts, 'quote-zh.png'), fullPage: true });
    await page.locator('a[href="?lang=en"]').click();
    await page.waitForURL(/lang=en/);
    if ((await page.locator('html').getAttribute('lang')) !== 'en') fail('the English page');
    await page.screenshot({ path: join(artefacts, 'quote-en.png'), fullPage: true });
    // The customer's PDF copy, in the language the page is in.
    const pdfHref = await page.locator('[data-testid="quote-pdf"]').getAttribute('href');
    if (!pdfHref || !pdfHref.endsWith('/quote.pdf?lang=en')) fail(`the PDF link: ${pdfHref}`);
    const pdf = await page.request.get(new URL(pdfHref, page.url()).href);
    const head = (await pdf.body()).subarray(0, 5).toString();
    if (pdf.status() !== 200 || pdf.headers()['content-type'] !== 'application/pdf' || head !== '%PDF-') {
      fail(`the PDF download: ${pdf.status()} ${pdf.headers()['content-type']} ${head}`);
    }
    await page.goto(link1);
  });

  await step('the customer rejects the quote with a reason', async () => {
    await page.locator('#reason').fill('价格太高');
    await Promise.all([page.waitForURL(link1), page.locator('[data-testid="reject"]').click()]);
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
    await page.goto(link2);
    await Promise.all([page.waitForURL(link2), page.locator('[data-testid="accept-standard"]').click()]);
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

async function signIn(page, email) {
  await page.goto(`${base}/login`);
  await page.locator('input[name="email"]').fill(email);
  await page.locator('input[name="password"]').fill(password);
  await Promise.all([page.waitForURL((u) => !u.pathname.startsWith('/login')), page.locator('button[type="submit"]').click()]);
}

async function submit(page, button) {
  await Promise.all([page.waitForLoadState('load'), page.waitForNavigation(), button.click()]);
}

// The deal page's forms: a rep captures the needs (a bad value first), drafts a quote from two
// recommended products, gives 12 % on one option and asks for approval; the team's manager
// approves; the rep sends and gets the customer's link once; the customer accepts; the rep
// makes the contract and ticks its milestones, logs an objection and resolves it; the manager
// adds to the stage's playbook — in Chinese, then in English.
async function dealPageForms(browser) {
  const newPage = () => watchedPage(browser, { width: 1400, height: 1000 });
  let deal;
  let manager;
  let rep;
  let pro;
  await step('a deal of a rep in the manager’s team, two products (API)', async () => {
    const users = (await api('GET', '/api/v1/users')).items;
    const teams = (await api('GET', '/api/v1/teams')).items;
    manager = users.find((u) => u.email === 'wang.jianguo@salesflow.example.com');
    if (!manager) fail('the demo manager 王建国');
    const team = teams.find((t) => t.manager_id === manager.id);
    rep = users.find((u) => u.role === 'rep' && u.active !== false && team && team.members.includes(u.id));
    if (!rep) fail('a rep in 王建国’s team');
    const stamp = Date.now();
    const product = (sku, zh, en, tier, minor) => api('POST', '/api/v1/products', {
      sku, name_zh: zh, name_en: en, unit: '套', tier, tags: ['报表', 'API'], category: 'CRM',
      list_price: { minor, currency: 'CNY' }, tax_rate_bp: 600,
      facts: [{ label: '平均上线周期', value: '14 天', source: '交付报告' }],
    });
    await product(`BR-STD-${stamp}`, '浏览器标准版', 'Browser Standard', 'standard', 8_000_000);
    pro = await product(`BR-PRO-${stamp}`, '浏览器专业版', 'Browser Professional', 'professional', 9_000_000);
    const processes = await api('GET', '/api/v1/processes');
    const seed = processes.items.find((p) => p.key === 'seed-five-stage.zh-CN');
    const account = await api('POST', '/api/v1/accounts', { name: `表单测试客户 ${stamp}`, owner_id: rep.id });
    deal = await api('POST', '/api/v1/deals', { title: '表单测试 CRM', account_id: account.id, process_id: seed.id, owner_id: rep.id });
  });

  const repPage = await newPage();
  const dealUrl = () => `${base}/deals/${deal.id}`;
  await step('the rep captures the needs; a bad purchase intent comes back beside its field', async () => {
    await signIn(repPage, rep.email);
    await repPage.goto(dealUrl());
    await repPage.locator('#needs-pain').fill('报表靠手工，月底加班');
    await repPage.locator('#needs-req').fill('报表\nAPI');
    await repPage.locator('#needs-budget').fill('100000');
    await repPage.locator('#needs-decision').fill('王总');
    await repPage.locator('#needs-intent').fill('9');
    await submit(repPage, repPage.locator('[data-testid="needs-form"] button[type="submit"]'));
    if (!(await repPage.locator('[data-field="needs_intent"]').isVisible())) fail('the intent problem is shown');
    if ((await repPage.locator('#needs-pain').inputValue()) !== '报表靠手工，月底加班') fail('the pain points typed are kept');
    await repPage.locator('[data-testid="needs-details"]').screenshot({ path: join(artefacts, 'deal-needs-error-zh.png') });
    await repPage.locator('#needs-intent').fill('4');
    await submit(repPage, repPage.locator('[data-testid="needs-form"] button[type="submit"]'));
    await repPage.locator('[data-testid="deal-needs"]').waitFor();
  });

  await step('the rep drafts a quote from two recommendations and asks for a 12 % discount', async () => {
    const boxes = repPage.locator('[data-testid="draft-form"] input[name="product"]');
    if ((await boxes.count()) < 2) fail('recommended products to tick');
    await boxes.nth(0).check();
    await boxes.nth(1).check();
    await submit(repPage, repPage.locator('[data-testid="draft-form"] button[type="submit"]'));
    await repPage.locator('li[data-quote="1"][data-status="draft"]').waitFor();
    await repPage.locator('[data-testid="draft-edit-1"] summary').click();
    await repPage.locator('input[name="q1_disc_1"]').fill('12');
    await repPage.locator('textarea[name="q1_payment"]').fill('签约后 30 日内支付 50%，验收后支付 50%');
    await submit(repPage, repPage.locator('[data-testid="draft-edit-form"] button[type="submit"]'));
    await repPage.locator('input[name="q1_comment"]').fill('战略客户，首年让利');
    await submit(repPage, repPage.locator('[data-testid="discount-request-form"] button[type="submit"]'));
    await repPage.locator('li[data-quote="1"] [data-testid="approval"]').waitFor();
    await repPage.locator('#deal-selling').screenshot({ path: join(artefacts, 'deal-draft-zh.png') });
  });

  await step('the manager approves the discount with a comment', async () => {
    const mgr = await newPage();
    await signIn(mgr, manager.email);
    await mgr.goto(dealUrl());
    await mgr.locator('input[name="q1_decision"]').fill('同意，下不为例');
    await submit(mgr, mgr.locator('[data-testid="discount-decision-form"] button[value="approve"]'));
    if (await mgr.locator('[data-testid="discount-decision-form"]').count()) fail('decided: the form is gone');
    await mgr.locator('li[data-quote="1"]').screenshot({ path: join(artefacts, 'deal-approved-zh.png') });
    await mgr.locator('[data-testid="playbook-edit"] summary').click();
    await mgr.locator('#pb-objection').fill('价格太高');
    await mgr.locator('#pb-answer').fill('按年付费，首年可分两期');
    await mgr.locator('#pb-evidence').fill('2025 年 12 家客户选择分期');
    await submit(mgr, mgr.locator('[data-testid="playbook-form"] button[type="submit"]'));
    await mgr.locator('[data-testid="deal-playbook"]').waitFor();
    // The price books page, from the navigation: a dealer book with a price for the product.
    await Promise.all([mgr.waitForURL(/\/price-books$/), mgr.locator('nav.main a[data-nav="price-books"]').click()]);
    await submit(mgr, mgr.locator('[data-testid="new-price-book"]'));
    await mgr.locator('#name').fill(`经销商价 ${Date.now()}`);
    await mgr.locator('#customer_group').fill('经销商');
    await mgr.locator('input[name="sku_0"]').fill('NO-SUCH-SKU');
    await mgr.locator('input[name="price_0"]').fill('80000');
    await submit(mgr, mgr.locator('[data-testid="price-book-form"] button[type="submit"]'));
    if (!(await mgr.locator('.field-error[data-field="sku_0"]').isVisible())) fail('an unknown SKU is refused beside its row');
    await mgr.locator('[data-testid="price-book-form"]').screenshot({ path: join(artefacts, 'price-book-error-zh.png') });
    await mgr.locator('input[name="sku_0"]').fill(pro.sku);
    await submit(mgr, mgr.locator('[data-testid="price-book-form"] button[type="submit"]'));
    await mgr.locator('[data-testid="price-book-saved"]').waitFor();
    await mgr.screenshot({ path: join(artefacts, 'price-books-zh.png'), fullPage: true });
    await mgr.context().close();
  });

  let link;
  await step('the rep sends the quote and sees the customer’s link once', async () => {
    await repPage.goto(dealUrl());
    if (await repPage.locator('[data-testid="discount-request-form"]').count()) fail('approved: nothing left to request');
    await submit(repPage, repPage.locator('[data-testid="send-form"] button'));
    link = await repPage.locator('[data-testid="customer-link"]').textContent();
    if (!link || !link.startsWith(`${base}/q/`)) fail(`the link shown, in full: ${link}`);
    await repPage.locator('#deal-selling').screenshot({ path: join(artefacts, 'deal-sent-zh.png') });
    await repPage.goto(dealUrl());
    if (await repPage.locator('[data-testid="customer-link"]').count()) fail('the link is shown only once');
  });

  await step('the customer accepts; the rep makes the contract and ticks a milestone', async () => {
    const customer = await newPage();
    await customer.goto(link);
    const key = pro.sku.toLowerCase();
    await Promise.all([customer.waitForURL(link), customer.locator(`[data-testid="accept-${key}"]`).click()]);
    await customer.context().close();
    await repPage.goto(dealUrl());
    if (!(await repPage.locator('li[data-quote="1"] [data-testid="decision"]').textContent()).includes('浏览器专业版')) {
      fail('the accepted option by its name');
    }
    await repPage.locator('[data-testid="contract-new"] summary').click();
    await repPage.locator('#c-seller').fill('星云软件有限公司');
    await submit(repPage, repPage.locator('[data-testid="contract-form"] button[type="submit"]'));
    const ms = repPage.locator('[data-testid="milestone-form"]');
    await ms.locator('input[name$="_ms_title"]').fill('系统上线验收');
    await ms.locator('input[type="date"]').fill('2099-06-30');
    await submit(repPage, ms.locator('button'));
    await submit(repPage, repPage.locator('[data-testid="milestone-done"]').first());
    await repPage.locator('li[data-milestone="1"][data-done="true"]').waitFor();
    if (await repPage.locator('[data-testid="contract-new"]').count()) fail('the quote has its contract: no second one offered');
    await repPage.locator('[data-testid="objection-new"] summary').click();
    await repPage.locator('#o-text').fill('预算要等下季度');
    await repPage.locator('#o-kind').selectOption('timing');
    await submit(repPage, repPage.locator('[data-testid="objection-form"] button[type="submit"]'));
    const open = repPage.locator('[data-testid="deal-objections"] li[data-resolved="false"]');
    await open.locator('input[type="text"]').fill('合同约定下季度付首款');
    await submit(repPage, open.locator('button'));
    await repPage.locator('[data-testid="deal-objections"] li[data-resolved="true"]').waitFor();
    await repPage.locator('#deal-selling').screenshot({ path: join(artefacts, 'deal-contract-zh.png') });
  });

  await step('in English: a payment milestone added and paid', async () => {
    const english = repPage.locator('form[data-testid="locale-switch"] button[name="locale"][value="en"]');
    if (await english.count()) {
      await Promise.all([repPage.waitForLoadState('load'), english.click()]);
    }
    await repPage.goto(dealUrl());
    if ((await repPage.locator('html').getAttribute('lang')) !== 'en') fail('the deal page in English');
    const ms = repPage.locator('[data-testid="milestone-form"]');
    await ms.locator('input[name$="_ms_title"]').fill('Second installment');
    await ms.locator('input[type="date"]').fill('2099-09-30');
    await ms.locator('select').selectOption('payment');
    await submit(repPage, ms.locator('button'));
    if (!(await repPage.locator('.field-error[data-field$="_ms_amount"]').isVisible())) fail('a payment needs its amount');
    await repPage.locator('[data-testid="milestone-form"] input[name$="_ms_amount"]').fill('45,000.00');
    await submit(repPage, repPage.locator('[data-testid="milestone-form"] button'));
    const amount = await repPage.locator('li[data-milestone="2"] [data-testid="milestone-amount"]').textContent();
    if (!amount.includes('45,000.00')) fail(`the installment's amount shown: ${amount}`);
    await submit(repPage, repPage.locator('[data-testid="milestone-done"]').first());
    await repPage.locator('li[data-milestone="2"][data-done="true"]').waitFor();
    await repPage.locator('#deal-selling').screenshot({ path: join(artefacts, 'deal-contract-en.png') });
    await repPage.context().close();
  });
}

// The draft editor on the deal page, in Chinese: the team's manager drafts from two
// recommended products, adds a catalog product that is not recommended as a line, changes a
// unit price, recommends the first option and saves; a second version from the catalog then
// says what changed from the first.
async function draftEditor(browser) {
  let deal;
  let extra;
  await step('a deal and a service product that is not recommended (API)', async () => {
    const users = (await api('GET', '/api/v1/users')).items;
    const teams = (await api('GET', '/api/v1/teams')).items;
    const manager = users.find((u) => u.email === 'wang.jianguo@salesflow.example.com');
    const team = teams.find((t) => t.manager_id === manager.id);
    const rep = users.find((u) => u.role === 'rep' && u.active !== false && team && team.members.includes(u.id));
    const stamp = Date.now();
    extra = await api('POST', '/api/v1/products', {
      sku: `BR-SVC-${stamp}`, name_zh: '驻场实施服务', name_en: 'On-site implementation', unit: '人天', category: '实施服务',
      list_price: { minor: 250_000, currency: 'CNY' }, tax_rate_bp: 600,
    });
    // Modules that cover the deal's requirement outrank the service (the page shows five).
    for (const [i, zh] of ['报表模块', '审批模块', '移动端模块', '数据看板模块', '接口模块'].entries()) {
      await api('POST', '/api/v1/products', {
        sku: `BR-MOD-${i}-${stamp}`, name_zh: zh, name_en: `Module ${i}`, unit: '套', category: '功能模块',
        tags: ['报表'], list_price: { minor: 1_000_000 * (i + 1), currency: 'CNY' }, tax_rate_bp: 600,
      });
    }
    const processes = await api('GET', '/api/v1/processes');
    const seed = processes.items.find((p) => p.key === 'seed-five-stage.zh-CN');
    const account = await api('POST', '/api/v1/accounts', { name: `报价编辑客户 ${stamp}`, owner_id: rep.id });
    deal = await api('POST', '/api/v1/deals', { title: '报价编辑 CRM', account_id: account.id, process_id: seed.id, owner_id: rep.id });
    await api('PUT', `/api/v1/deals/${deal.id}/needs`, { requirements: ['报表'], purchase_intent: 3 });
  });

  const page = await watchedPage(browser, { width: 1400, height: 1000 });
  const dealUrl = `${base}/deals/${deal.id}`;
  await step('the manager drafts from two recommendations (zh-CN)', async () => {
    await signIn(page, 'wang.jianguo@salesflow.example.com');
    await page.goto(dealUrl);
    if ((await page.locator('html').getAttribute('lang')) !== 'zh-CN') fail('the deal page in Chinese');
    const recommended = await page.locator('[data-testid="deal-recommendations"] input[name="product"]').evaluateAll(
      (boxes) => boxes.map((b) => b.value),
    );
    if (recommended.includes(String(extra.id))) fail('the service product is not among the recommendations');
    if ((await page.locator(`[data-catalog-product="${extra.sku}"]`).count()) !== 1) fail('the catalog offers the service');
    const boxes = page.locator('[data-testid="deal-recommendations"] input[name="product"]');
    await boxes.nth(0).check();
    await boxes.nth(1).check();
    await submit(page, page.locator('[data-testid="draft-form"] button[type="submit"]'));
    await page.locator('li[data-quote="1"][data-status="draft"]').waitFor();
  });

  await step('the manager adds the service line, re-prices a line and recommends the first option', async () => {
    await page.locator('[data-testid="draft-edit-1"] summary').click();
    await page.locator('select[name="q1_addprod_0"]').selectOption(String(extra.id));
    await page.locator('input[name="q1_addqty_0"]').fill('5');
    await page.locator('input[name="q1_price_1_0"]').fill('66,000.00');
    await page.locator('input[name="q1_rec"][value="0"]').check();
    await page.locator('[data-testid="draft-edit-1"]').screenshot({ path: join(artefacts, 'deal-draft-edit-zh.png') });
    await submit(page, page.locator('[data-testid="draft-edit-form"] button[type="submit"]'));
    const q = (await api('GET', `/api/v1/deals/${deal.id}/quotes`)).items.find((x) => x.number === 1);
    const [first, second] = q.content.options;
    if (q.content.recommended !== first.key) fail(`recommended ${q.content.recommended}, expected ${first.key}`);
    const added = first.lines.find((l) => l.product_id === extra.id);
    if (!added || added.quantity !== 5 || added.unit_price.minor !== 250_000) fail(`the service line: ${JSON.stringify(first.lines)}`);
    if (second.lines[0].unit_price.minor !== 6_600_000) fail(`the new unit price: ${JSON.stringify(second.lines[0])}`);
    await page.locator('[data-testid="draft-edit-1"] summary').click();
    if ((await page.locator('input[name="q1_price_1_0"]').inputValue()) !== '66000.00') fail('the saved price is shown');
    if (!(await page.locator('input[name="q1_rec"][value="0"]').isChecked())) fail('the recommended option is ticked');
    await page.locator('li[data-quote="1"]').screenshot({ path: join(artefacts, 'deal-draft-edited-zh.png') });
  });

  await step('a second version from the catalog shows what changed from the first', async () => {
    await page.locator('[data-testid="draft-catalog"] summary').click();
    await page.locator(`[data-catalog-product="${extra.sku}"]`).check();
    await submit(page, page.locator('[data-testid="draft-form"] button[type="submit"]'));
    const changes = page.locator('[data-testid="quote-changes-2"]');
    await changes.waitFor();
    const text = await changes.textContent();
    for (const want of ['与第 1 版相比', '新增方案「驻场实施服务」', '删除方案']) {
      if (!text.includes(want)) fail(`"${want}" in the changes: ${text}`);
    }
    await page.locator('li[data-quote="2"]').screenshot({ path: join(artefacts, 'deal-quote-changes-zh.png') });
    await page.context().close();
  });
}

await runPages({ name: 'quote pages', artefacts, viewport: { width: 1400, height: 1000 }, body: async (page, browser) => {
  await run(page);
  await dealPageForms(browser);
  await draftEditor(browser);
} });
