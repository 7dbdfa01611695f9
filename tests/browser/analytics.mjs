// The analytics page in Chromium on demo data: a zh-CN manager opens it from the navigation,
// sees the bottleneck sentence, the heat-mapped flowchart, the charts and the segment table,
// clicks a stage to list its stuck deals and follows one to its deal page, filters by channel,
// then switches to English and sees the same screens in English.
//
//   node tests/browser/analytics.mjs <base url> <password> <artefact dir>
//
// Screenshots: analytics-zh.png, heatmap-zh.png, analytics-en.png, heatmap-en.png (and
// failure-<nn>-<step>.png when a step fails). Exit code 0 on success, 1 with a message
// naming the failed step. Run by crates/salesflow/tests/cli.rs. It fails on any page script
// error or CSP violation.

import { join } from 'node:path';
import { args, fail, log, runPages, step, until } from './harness.mjs';

const [base, password, artefacts] = args('analytics.mjs', ['base url', 'password', 'artefact dir']);

const MANAGER = 'wang.jianguo@salesflow.example.com';
const CJK = /[\u4e00-\u9fff]/;

async function goto(page, url) {
  const res = await page.goto(new URL(url, base).href, { waitUntil: 'load' });
  if (!res || res.status() >= 400) fail(`GET ${url} answered ${res ? res.status() : 'nothing'}`);
  return res;
}

const lang = (page) => page.evaluate(() => document.documentElement.lang);

/** The page's analytics parts are there and drawn; returns the bottleneck sentence. */
async function checkAnalytics(page) {
  const sentence = (await page.locator('[data-testid="bottleneck"] .sentence').innerText()).trim();
  if (!sentence) fail('no bottleneck sentence');
  const nodes = page.locator('[data-testid="heat-map"] svg g[data-flow-node]');
  if ((await nodes.count()) < 5) fail(`the heat map has ${await nodes.count()} stage groups`);
  const fills = await page.$$eval('[data-testid="heat-map"] svg g[data-flow-node] rect', (rs) =>
    rs.map((r) => r.getAttribute('fill')).filter((f) => f && f !== '#ffffff' && f !== 'white'),
  );
  if (fills.length < 3) fail(`too few heat-coloured stages: ${fills.join(', ')}`);
  const wide = await page.$$eval('[data-testid="heat-map"] svg g[data-flow-edge] polyline', (ps) =>
    ps.map((p) => Number(p.getAttribute('stroke-width') || 0)).filter((w) => w > 3),
  );
  if (!wide.length) fail('no edge is drawn wider by its volume');
  for (const name of ['funnel', 'time', 'lost', 'trend']) {
    await until(`the ${name} chart to be drawn`, () =>
      page.evaluate((n) => !!document.querySelector(`[data-chart="${n}"] svg`), name),
    );
  }
  const rows = await page.locator('[data-testid="segments"] tbody tr').count();
  if (rows < 3) fail(`the segment tables have ${rows} rows`);
  return sentence;
}

async function shots(page, suffix) {
  await page.waitForTimeout(300);
  await page.screenshot({ path: join(artefacts, `analytics-${suffix}.png`), fullPage: true });
  await page.locator('[data-testid="heat-map"]').screenshot({ path: join(artefacts, `heatmap-${suffix}.png`) });
}

async function scenario(page) {
  await step('sign in as the demo manager 王建国 and open analytics from the navigation', async () => {
    await goto(page, '/login');
    await page.locator('input[name="email"]').fill(MANAGER);
    await page.locator('input[name="password"]').fill(password);
    await Promise.all([page.waitForURL((u) => u.pathname !== '/login'), page.locator('button[type="submit"]').click()]);
    if ((await lang(page)) !== 'zh-CN') fail('not zh-CN after signing in');
    await Promise.all([page.waitForURL((u) => u.pathname === '/analytics'), page.locator('a[data-nav="analytics"]').click()]);
    await page.waitForLoadState('load');
  });

  let sentence;
  let processId;
  await step('the page in Chinese: sentence, heat map, charts, segments', async () => {
    processId = await page.locator('select[name="process"]').inputValue();
    sentence = await checkAnalytics(page);
    if (!CJK.test(sentence)) fail(`the sentence is not Chinese: ${sentence}`);
    const heading = (await page.locator('h1').innerText()).trim();
    if (!CJK.test(heading)) fail(`heading "${heading}"`);
    await shots(page, 'zh');
  });

  await step('the heat map as an image from the API', async () => {
    const id = await page.locator('select[name="process"]').inputValue();
    const res = await page.request.get(new URL(`/api/v1/processes/${id}/analytics/heatmap.svg`, base).href);
    if (res.status() !== 200) fail(`heatmap.svg answered ${res.status()}`);
    if (!res.headers()['content-type'].startsWith('image/svg+xml')) fail(`content type ${res.headers()['content-type']}`);
  });

  await step('clicking a stage lists its stuck deals, which link to their deal pages', async () => {
    const first = page.locator('#stuck tr[data-stuck-node]').first();
    if (!(await first.count())) fail('the demo has no stuck deal to list');
    const node = await first.getAttribute('data-stuck-node');
    await page.locator(`[data-testid="heat-map"] g[data-flow-node="${node}"]`).click();
    await until('other stages’ rows to hide', () =>
      page.$$eval('#stuck tr[data-stuck-node]', (rs, n) => rs.every((r) => r.hidden === (r.dataset.stuckNode !== n)), node),
    );
    const link = page.locator(`#stuck tr[data-stuck-node="${node}"] a`).first();
    const href = await link.getAttribute('href');
    if (!/^\/deals\/\d+$/.test(href)) fail(`stuck deal link ${href}`);
    await Promise.all([page.waitForURL((u) => u.pathname === href), link.click()]);
    await page.goBack({ waitUntil: 'load' });
  });

  await step('a channel filter reloads the numbers', async () => {
    const before = await page.locator('[data-testid="kpis"] tbody tr').first().locator('td').first().innerText();
    await page.locator('select[name="channel"]').selectOption('trade_show');
    await Promise.all([page.waitForURL((u) => u.searchParams.get('channel') === 'trade_show'), page.locator('form[data-testid="analytics-filters"] button[type="submit"]').click()]);
    await page.waitForLoadState('load');
    const after = await page.locator('[data-testid="kpis"] tbody tr').first().locator('td').first().innerText();
    log(`  deals this period: all channels ${before}, trade shows ${after}`);
    if (Number(after) > Number(before)) fail('a filter raised the count');
    await goto(page, '/analytics');
  });

  await step('import a past event log through the page form', async () => {
    const csv = [
      'case:concept:name,concept:name,time:timestamp,case:account,case:amount',
      'past-1,lead_identification,2024-02-01 09:00,历史客户甲,8800',
      'past-1,needs_analysis,2024-02-05 10:30,,',
      'past-2,lead_identification,2024-02-03 09:00,历史客户乙,',
      'past-2,lost,2024-02-20 17:00,,',
    ].join('\n');
    await page.locator('#import-form input[name="file"]').setInputFiles({ name: 'history.csv', mimeType: 'text/csv', buffer: Buffer.from(csv) });
    const [res] = await Promise.all([
      page.waitForResponse((r) => r.request().method() === 'POST' && /\/import$/.test(new URL(r.url()).pathname)),
      page.locator('#import-form button[type="submit"]').click(),
    ]);
    if (res.status() !== 201) fail(`the import answered ${res.status()}: ${await res.text()}`);
    const text = await until('the import result', async () => (await page.locator('#import-result').innerText()).trim());
    if (!/2/.test(text) || !CJK.test(text)) fail(`import result "${text}"`);
    await page.locator('[data-testid="import"]').screenshot({ path: join(artefacts, 'import-zh.png') });
  });

  await step('switch to English: the same page in English', async () => {
    const button = page.locator('form[data-testid="locale-switch"] button[name="locale"][value="en"]');
    await Promise.all([page.waitForResponse((r) => new URL(r.url()).pathname === '/me/locale'), button.click()]);
    await page.waitForLoadState('load');
    // The same process (the default is the first one in the user's language).
    await goto(page, `/analytics?process=${processId}`);
    if ((await lang(page)) !== 'en') fail('not lang="en"');
    const en = await checkAnalytics(page);
    if (!/[A-Za-z]{3,}/.test(en) || en === sentence) fail(`the sentence is not English: ${en}`);
    const heading = (await page.locator('h1').innerText()).trim();
    if (CJK.test(heading)) fail(`heading "${heading}" in English`);
    const caption = await page.locator('[data-testid="heat-map"] svg').innerHTML();
    if (!/median [0-9.]+ d/.test(caption)) fail('the heat-map captions are not in English');
    await shots(page, 'en');
  });
}

await runPages({ name: 'analytics browser test', artefacts, viewport: { width: 1400, height: 1000 }, body: scenario });
