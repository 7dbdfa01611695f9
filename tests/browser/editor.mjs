// The flowchart editor driven in Chromium like an admin: on the seed process, start a new draft,
// add a stage "方案演示" between recommendation and quotation, connect it — the server's
// validation marks it while it is dangling — fix it, publish, migrate the open deals after
// looking at the preview, and find the new stage in a deal's flowchart. On the way the new stage
// is dragged elsewhere, the draft saved and the editor reloaded: the stage must stay where it
// was left, and the published drawing must keep the arrangement. Then the same edit on
// the English seed process ("Solution demo") with the pages in English.
//
//   node tests/browser/editor.mjs <base url> <password> <artefact dir>
//
// The base URL is a running `salesflow serve` over `salesflow demo` data, the password the one
// `salesflow demo` printed. Screenshots: editor-criteria-zh.png (a stage's exit criteria rows),
// editor-dangling-zh.png, editor-zh.png, editor-moved-zh.png
// (a stage dragged elsewhere, saved, the page reloaded), flowchart-zh.png,
// migrate-zh.png, deal-flowchart-zh.png, editor-dangling-en.png, editor-en.png,
// flowchart-en.png (failure-<step>.png when a step fails). Exit code 0 on success, 1 with a
// message naming the failed step. Run by crates/salesflow/tests/cli.rs.

import { join } from 'node:path';
import { args, fail, log, path, runPages, step, until } from './harness.mjs';

const [base, password, artefacts] = args('editor.mjs', ['base url', 'password', 'artefact dir']);

const ADMIN = 'admin@salesflow.example.com';

async function goto(page, url) {
  const res = await page.goto(new URL(url, base).href, { waitUntil: 'load' });
  if (!res) fail(`no response for ${url}`);
  if (res.status() >= 400) fail(`GET ${url} answered ${res.status()}`);
  return res;
}

/** Clicks something that navigates (a form post or a link) and waits for the new page. */
async function navigate(page, action) {
  await Promise.all([page.waitForNavigation({ waitUntil: 'load' }), action()]);
}

async function api(page, url) {
  return page.evaluate(async (u) => {
    const r = await fetch(u, { credentials: 'same-origin' });
    return { status: r.status, json: await r.json() };
  }, url);
}

// ---------------------------------------------------------------------------------------------
// The editor

const node = (id) => `#flow-editor .drawflow-node[data-node="${id}"]`;
const editorRoot = '#flow-editor';

async function center(page, selector) {
  const box = await page.locator(selector).first().boundingBox();
  if (!box) fail(`${selector} is not on screen`);
  return { x: box.x + box.width / 2, y: box.y + box.height / 2 };
}

/** Drags from one node's output dot to another's input dot, as a user connects two nodes. */
async function connect(page, from, to) {
  await page.evaluate(() => document.getElementById('flow-canvas').scrollIntoView({ block: 'center' }));
  // Problems shown on a node change its height: let the last check land before aiming.
  await until('the server check to finish', async () => (await page.locator(editorRoot).getAttribute('data-checking')) !== 'true');
  const a = await center(page, `${node(from)} .output_1`);
  const b = await center(page, `${node(to)} .sf-name`);
  await page.mouse.move(a.x, a.y);
  await page.mouse.down();
  await page.mouse.move((a.x + b.x) / 2, (a.y + b.y) / 2, { steps: 5 });
  await page.mouse.move(b.x, b.y, { steps: 5 });
  await page.mouse.up();
  await until(`a line from ${from} to ${to}`, () =>
    page.evaluate(([f, t]) => {
      const df = (id) => document.querySelector(`#flow-editor .drawflow-node[data-node="${id}"]`).id.replace('node-', '');
      return Boolean(document.querySelector(`svg.connection.node_out_node-${df(f)}.node_in_node-${df(t)}`));
    }, [from, to]),
  );
}

/**
 * Selects the line between two nodes — a click on the line where no other line covers it, else
 * on its label — and deletes it with the Delete key.
 */
async function deleteLine(page, from, to) {
  await page.evaluate(() => document.getElementById('flow-canvas').scrollIntoView({ block: 'center' }));
  const selector = await page.evaluate(([f, t]) => {
    const df = (id) => document.querySelector(`#flow-editor .drawflow-node[data-node="${id}"]`).id.replace('node-', '');
    return `svg.connection.node_out_node-${df(f)}.node_in_node-${df(t)}`;
  }, [from, to]);
  const point = await page.evaluate((sel) => {
    const path = document.querySelector(`${sel} path.main-path`);
    if (!path) return null;
    const m = path.getScreenCTM();
    for (const t of [0.5, 0.4, 0.6, 0.3, 0.7]) {
      const p = path.getPointAtLength(path.getTotalLength() * t);
      const at = { x: p.x * m.a + p.y * m.c + m.e, y: p.x * m.b + p.y * m.d + m.f };
      if (document.elementFromPoint(at.x, at.y) === path) return at;
    }
    return null;
  }, selector);
  if (point) await page.mouse.click(point.x, point.y);
  else await page.locator(`${selector} text.sf-label`).dispatchEvent('click');
  await until('the line selected', async () => !(await page.locator('[data-testid="edge-form"]').isHidden()));
  await page.keyboard.press('Delete');
  await until(`the line from ${from} to ${to} to go`, async () => (await page.locator(selector).count()) === 0);
}

async function valid(page) {
  return page.locator(editorRoot).getAttribute('data-valid');
}

/**
 * On the process with `key`: a new draft, a stage named `stageName` between recommendation and
 * negotiation (quotation), the dangling error seen and fixed, then published. Returns
 * { processId, version }.
 */
async function addStageAndPublish(page, key, stageName, suffix) {
  let processId;
  await step(`open a new draft of ${key} in the editor`, async () => {
    const list = await api(page, '/api/v1/processes');
    const p = list.json.items.find((x) => x.key === key);
    if (!p) fail(`no process with key ${key}`);
    processId = p.id;
    await goto(page, `/processes/${processId}/versions/${p.published_version}`);
    await navigate(page, () => page.locator('[data-testid="new-draft"]').click());
    if (!/\/versions\/\d+\/edit$/.test(path(page))) fail(`not in the editor: ${path(page)}`);
    await page.locator(node('recommendation')).waitFor();
    await until('the seed draft to validate', async () => (await valid(page)) === 'true');
  });
  const version = Number(path(page).split('/')[4]);
  if (suffix === 'zh') await editCriteria(page, processId, version);
  let stageId;
  await step(`add the stage "${stageName}" and connect recommendation to it`, async () => {
    const before = await page.locator('#flow-editor .drawflow-node').count();
    await page.locator('[data-action="add-stage"]').click();
    await until('a new node', async () => (await page.locator('#flow-editor .drawflow-node').count()) === before + 1);
    stageId = await page.locator('#flow-editor .drawflow-node').last().getAttribute('data-node');
    const name = page.locator('[data-testid="node-name"]');
    await name.fill(stageName);
    await name.press('Tab');
    await until('the new name on the node', async () =>
      (await page.locator(`${node(stageId)} .sf-name`).textContent()) === stageName,
    );
    await page.locator('#flow-editor textarea[name="goal"]').fill(suffix === 'zh' ? '向客户演示方案并确认价值' : 'Show the customer the solution working');
    await page.locator('#flow-editor textarea[name="goal"]').press('Tab');
    await page.locator('#flow-editor textarea[name="steps"]').fill(suffix === 'zh' ? '准备演示环境\n现场演示' : 'Prepare the demo\nRun the demo');
    await page.locator('#flow-editor textarea[name="steps"]').press('Tab');
    await connect(page, 'recommendation', stageId);
  });
  await step('the dangling stage is marked by the server’s validation', async () => {
    // Connected from recommendation, it is no second entry any more, but leads nowhere.
    await until('only the new stage marked invalid', async () =>
      (await page.locator(`${node(stageId)}.invalid`).count()) === 1 &&
      (await page.locator('#flow-editor .drawflow-node.invalid').count()) === 1,
    );
    const problem = await page.locator(`${node(stageId)} .sf-problem`).textContent();
    if (!problem.trim()) fail('no problem text on the node');
    await until('the issue listed beside the canvas', async () =>
      (await page.locator(`[data-testid="issues"] li[data-node="${stageId}"]`).count()) > 0,
    );
    if ((await valid(page)) !== 'false') fail('the editor says the process is valid');
    await page.screenshot({ path: join(artefacts, `editor-dangling-${suffix}.png`), fullPage: true });
    log(`  problem shown: ${problem}`);
  });
  await step('undo removes the line, redo brings it back', async () => {
    const lines = () => page.locator('#flow-editor svg.connection').count();
    const n = await lines();
    await page.locator('[data-action="undo"]').click();
    await until('one line fewer after undo', async () => (await lines()) === n - 1);
    await page.locator('[data-action="redo"]').click();
    await until('the line back after redo', async () => (await lines()) === n);
    const name = await page.locator(`${node(stageId)} .sf-name`).textContent();
    if (name !== stageName) fail(`after undo/redo the stage is named ${name}`);
  });
  await step('connect it to quotation, drop the direct line: valid again', async () => {
    await connect(page, stageId, 'negotiation');
    await deleteLine(page, 'recommendation', 'negotiation');
    await until('the process to be valid', async () => (await valid(page)) === 'true');
    await page.locator('[data-action="layout"]').click();
    await page.waitForTimeout(500);
    await page.locator(node(stageId)).click();
    await page.screenshot({ path: join(artefacts, `editor-${suffix}.png`), fullPage: true });
  });
  let placed = null;
  if (suffix === 'zh') placed = await moveSaveAndReload(page, stageId, suffix);
  await step('publish and see the new stage in the rendered flowchart', async () => {
    await navigate(page, () => page.locator('[data-action="publish"]').click());
    if (path(page) !== `/processes/${processId}/versions/${version}`) fail(`after publishing: ${path(page)}`);
    const status = await page.locator('[data-testid="version-status"]').getAttribute('data-status');
    if (status !== 'published') fail(`the version is ${status}`);
    const figure = page.locator('figure[data-testid="flowchart"]');
    await until('the stage in the SVG', async () => (await figure.locator(`g[data-flow-node="${stageId}"]`).count()) === 1);
    const text = await figure.locator(`g[data-flow-node="${stageId}"]`).textContent();
    if (!text.includes(stageName)) fail(`the SVG node says ${text}`);
    if (placed) {
      // The drawing follows the stored positions: the moved stage sits as far from another node
      // as it did in the editor (the drawing is only shifted as a whole).
      const corner = (id) =>
        figure.locator(`g[data-flow-node="${id}"] rect`).first().evaluate((r) => ({
          x: Number(r.getAttribute('x')),
          y: Number(r.getAttribute('y')),
        }));
      const [a, b] = [await corner(stageId), await corner(placed.other)];
      const [dx, dy] = [a.x - b.x, a.y - b.y];
      const [ex, ey] = [placed.at.x - placed.otherAt.x, placed.at.y - placed.otherAt.y];
      if (Math.abs(dx - ex) > 1 || Math.abs(dy - ey) > 1) {
        fail(`in the SVG the stage is ${dx},${dy} from ${placed.other}; in the editor ${ex},${ey}`);
      }
      log(`  the SVG keeps the editor's arrangement (${dx.toFixed(1)}, ${dy.toFixed(1)} from ${placed.other})`);
    }
    // The whole drawing (the page scrolls it sideways inside its card).
    await figure.evaluate((el) => {
      el.style.overflow = 'visible';
      el.style.width = 'max-content';
    });
    await figure.locator('svg').first().screenshot({ path: join(artefacts, `flowchart-${suffix}.png`) });
  });
  return { processId, version, stageId };
}

/** Clicks a node so that the side panel shows it. */
async function selectNode(page, id) {
  await page.evaluate(() => document.getElementById('flow-canvas').scrollIntoView({ block: 'center' }));
  await page.locator(`${node(id)} .sf-name`).click();
  await until(`${id} in the side panel`, async () => !(await page.locator('[data-testid="node-form"]').isHidden()));
}

/** The stage's exit criteria as saved on the draft. */
async function savedCriteria(page, processId, version, stage) {
  await page.evaluate(() => delete document.getElementById('flow-editor').dataset.saved);
  await page.locator('[data-action="save"]').click();
  await until('the draft saved', async () => (await page.locator(editorRoot).getAttribute('data-saved')) === 'true');
  const r = await api(page, `/api/v1/processes/${processId}/versions/${version}`);
  if (r.status !== 200) fail(`GET the draft answered ${r.status}`);
  return r.json.definition.nodes.find((n) => n.id === stage).exit_criteria;
}

/**
 * The exit criteria rows of a stage: a needs-analysis criterion added with the selects, saved
 * and read back through the API, shown again after a reload; a field criterion made soft.
 */
async function editCriteria(page, processId, version) {
  const stage = 'recommendation';
  const rows = '#flow-editor [data-testid="criteria-list"] li.criterion';
  await step('add a needs-analysis criterion with the structured rows and save it', async () => {
    await selectNode(page, stage);
    const before = await page.locator(rows).count();
    if (before !== 3) fail(`recommendation shows ${before} criteria rows`);
    await page.locator('#flow-editor [data-action="add-criterion"]').click();
    await until('a new row', async () => (await page.locator(rows).count()) === before + 1);
    const row = page.locator(rows).last();
    await row.locator('select[data-criterion="gate"]').selectOption('hard');
    await row.getByLabel('检查').selectOption('needs');
    await until('the targets of the needs analysis', async () =>
      (await page.locator(rows).last().locator('select[data-criterion="target"] option[value="budget"]').count()) === 1,
    );
    await page.locator(rows).last().getByLabel('对象').selectOption('budget');
    const label = page.locator(rows).last().getByLabel('提示文字');
    await label.fill('预算已知');
    await label.press('Tab');
    const saved = await savedCriteria(page, processId, version, stage);
    const added = saved.find((c) => c.needs === 'budget');
    if (!added || added.gate !== 'hard' || added.label !== '预算已知' || added.step || added.field) {
      fail(`saved criteria: ${JSON.stringify(saved)}`);
    }
    if (!/^c_\d+$/.test(added.id)) fail(`the new criterion's id is ${added.id}`);
    const ids = saved.map((c) => c.id);
    for (const id of ['c_amount', 'c_present', 'c_evidence']) if (!ids.includes(id)) fail(`${id} lost: ${ids}`);
    log(`  saved ${JSON.stringify(added)}`);
  });
  await step('after a reload the row shows needs analysis → budget; a field criterion made soft', async () => {
    await page.reload({ waitUntil: 'load' });
    await page.locator(node(stage)).waitFor();
    await until('the reloaded draft to validate', async () => (await valid(page)) === 'true');
    await selectNode(page, stage);
    const shown = await page.locator(rows).evaluateAll((lis) =>
      lis.map((li) => ({
        id: li.dataset.criterionId,
        gate: li.querySelector('[data-criterion="gate"]').value,
        kind: li.querySelector('[data-criterion="kind"]').value,
        target: li.querySelector('[data-criterion="target"]').value,
        label: li.querySelector('[data-criterion="label"]').value,
      })),
    );
    const budget = shown.find((r) => r.kind === 'needs');
    if (!budget || budget.target !== 'budget' || budget.gate !== 'hard' || budget.label !== '预算已知') {
      fail(`rows shown: ${JSON.stringify(shown)}`);
    }
    const amount = shown.findIndex((r) => r.id === 'c_amount');
    if (amount < 0 || shown[amount].kind !== 'field' || shown[amount].target !== 'amount') fail(`rows shown: ${JSON.stringify(shown)}`);
    await page.locator(rows).nth(amount).getByLabel('类型').selectOption('soft');
    await page.locator('#flow-editor .flow-panel').screenshot({ path: join(artefacts, 'editor-criteria-zh.png') });
    const saved = await savedCriteria(page, processId, version, stage);
    const c = saved.find((x) => x.id === 'c_amount');
    if (!c || c.gate !== 'soft' || c.field !== 'amount') fail(`c_amount saved as ${JSON.stringify(c)}`);
    if (!saved.some((x) => x.needs === 'budget' && x.gate === 'hard')) fail(`the budget criterion is gone: ${JSON.stringify(saved)}`);
    // Undo takes the gate back.
    await page.locator('[data-action="undo"]').click();
    await until('undo to restore the hard gate', async () =>
      page.evaluate(() => {
        const gate = document.querySelector('#flow-editor li.criterion[data-criterion-id="c_amount"] [data-criterion="gate"]');
        return gate && gate.value === 'hard';
      }),
    );
    await page.locator('[data-action="redo"]').click();
    await until('redo to make it soft again', async () =>
      page.evaluate(() => {
        const gate = document.querySelector('#flow-editor li.criterion[data-criterion-id="c_amount"] [data-criterion="gate"]');
        return gate && gate.value === 'soft';
      }),
    );
  });
  await step('a renamed step keeps its criterion; a removed one is flagged', async () => {
    const steps = page.locator('#flow-editor textarea[name="steps"]');
    const evidence = () =>
      page.evaluate(() => {
        const t = document.querySelector('#flow-editor li.criterion[data-criterion-id="c_evidence"] [data-criterion="target"]');
        return t && { value: t.value, text: t.selectedOptions[0].textContent, invalid: t.getAttribute('aria-invalid') };
      });
    const lines = (await steps.inputValue()).split('\n');
    await steps.fill([...lines.slice(0, -1), '展示案例数据'].join('\n'));
    await steps.press('Tab');
    await until('the renamed step in the criterion row', async () => {
      const e = await evidence();
      return e && e.value === 'share_evidence' && e.text === '展示案例数据' && e.invalid === null;
    });
    await steps.fill(lines.slice(0, -1).join('\n'));
    await steps.press('Tab');
    await until('the criterion on the removed step marked', async () => {
      const e = await evidence();
      return e && e.value === 'share_evidence' && e.invalid === 'true';
    });
    await until('the server’s issue listed', async () =>
      (await page.locator(`[data-testid="issues"] li[data-node="${stage}"]`).count()) > 0,
    );
    if ((await valid(page)) !== 'false') fail('a criterion on a removed step passes validation');
    await page.locator('[data-action="undo"]').click();
    await page.locator('[data-action="undo"]').click();
    await until('valid again after undoing both', async () => (await valid(page)) === 'true');
    const e = await evidence();
    if (!e || e.text === '展示案例数据' || e.invalid !== null) fail(`after undo: ${JSON.stringify(e)}`);
  });
}

/**
 * Where the editor shows a node: its place on the canvas (drawflow's left/top at zoom 1) and
 * where it appears inside the canvas's frame (pixels from its top-left corner, as seen).
 */
async function placeOf(page, id) {
  const box = await page.locator(node(id)).boundingBox();
  const frame = await page.locator('#flow-canvas').boundingBox();
  if (!box || !frame) fail(`${id} is not on screen`);
  const model = await page.locator(node(id)).evaluate((el) => ({
    x: parseFloat(el.style.left),
    y: parseFloat(el.style.top),
  }));
  return { screen: { x: box.x - frame.x, y: box.y - frame.y }, ...model };
}

/**
 * Drags `id` to a new spot with the mouse, saves the draft, reloads the editor and checks the
 * node is where it was left. Returns the stage's and a stage-shaped neighbour's canvas places.
 */
async function moveSaveAndReload(page, id, suffix) {
  let result;
  await step('drag the new stage to a new spot, save, reload: it stays there', async () => {
    await page.evaluate(() => document.getElementById('flow-canvas').scrollIntoView({ block: 'center' }));
    await until('the server check to finish', async () => (await page.locator(editorRoot).getAttribute('data-checking')) !== 'true');
    const before = await placeOf(page, id);
    const grip = await center(page, `${node(id)} .sf-name`);
    const [mx, my] = [70, 110];
    await page.mouse.move(grip.x, grip.y);
    await page.mouse.down();
    await page.mouse.move(grip.x + mx / 2, grip.y + my / 2, { steps: 6 });
    await page.mouse.move(grip.x + mx, grip.y + my, { steps: 6 });
    await page.mouse.up();
    const after = await placeOf(page, id);
    // drawflow rounds the node's offset at every mouse move step, so the drop is only roughly
    // where the mouse went; what matters is that the node stays where it ended up.
    if (Math.abs(after.screen.x - before.screen.x - mx) > 12 || Math.abs(after.screen.y - before.screen.y - my) > 12) {
      fail(`the drag moved the node from ${JSON.stringify(before.screen)} to ${JSON.stringify(after.screen)}`);
    }
    // Undo puts the node back, redo moves it again (on the canvas; the view may zoom anew).
    await page.locator('[data-action="undo"]').click();
    await until('the node back after undo', async () => {
      const p = await placeOf(page, id);
      return Math.abs(p.x - before.x) < 1 && Math.abs(p.y - before.y) < 1;
    });
    await page.locator('[data-action="redo"]').click();
    await until('the node moved again after redo', async () => {
      const p = await placeOf(page, id);
      return Math.abs(p.x - after.x) < 1 && Math.abs(p.y - after.y) < 1;
    });
    const other = 'needs_analysis';
    const otherAt = await placeOf(page, other);
    await page.evaluate(() => delete document.getElementById('flow-editor').dataset.saved);
    await page.locator('[data-action="save"]').click();
    await until('the draft saved', async () => (await page.locator(editorRoot).getAttribute('data-saved')) === 'true');
    const stored = await page.evaluate(async ([u, n]) => {
      const r = await fetch(u, { credentials: 'same-origin' });
      return (await r.json()).definition.positions[n];
    }, [`/api/v1/processes/${path(page).split('/')[2]}/versions/${path(page).split('/')[4]}`, id]);
    if (!stored || Math.abs(stored.x - after.x) > 0.5 || Math.abs(stored.y - after.y) > 0.5) {
      fail(`stored position ${JSON.stringify(stored)}, the editor showed ${after.x},${after.y}`);
    }

    await page.reload({ waitUntil: 'load' });
    await page.locator(node(id)).waitFor();
    await until('the reloaded draft to validate', async () => (await valid(page)) === 'true');
    await page.evaluate(() => document.getElementById('flow-canvas').scrollIntoView({ block: 'center' }));
    const again = await placeOf(page, id);
    if (Math.abs(again.x - after.x) > 1 || Math.abs(again.y - after.y) > 1) {
      fail(`after reloading the node is at ${again.x},${again.y} on the canvas, was left at ${after.x},${after.y}`);
    }
    // Same zoom as before: the same spot in the canvas's frame, within a few pixels.
    if (Math.abs(again.screen.x - after.screen.x) > 4 || Math.abs(again.screen.y - after.screen.y) > 4) {
      fail(`after reloading the node is at ${JSON.stringify(again.screen)} on screen, was left at ${JSON.stringify(after.screen)}`);
    }
    const otherAgain = await placeOf(page, other);
    if (Math.abs(otherAgain.x - otherAt.x) > 1 || Math.abs(otherAgain.y - otherAt.y) > 1) fail(`${other} moved on reload`);
    await page.locator(node(id)).click();
    await page.screenshot({ path: join(artefacts, `editor-moved-${suffix}.png`), fullPage: true });
    log(`  ${id} left at ${after.x},${after.y}; after reloading at ${again.x},${again.y}`);
    result = { at: { x: again.x, y: again.y }, other, otherAt: { x: otherAgain.x, y: otherAgain.y } };
  });
  return result;
}

async function scenario(page) {
  await step('sign in as the admin', async () => {
    await goto(page, '/login');
    await page.locator('input[name="email"]').fill(ADMIN);
    await page.locator('input[name="password"]').fill(password);
    await navigate(page, () => page.locator('button[type="submit"]').click());
    if (path(page) === '/login') fail('still on /login');
  });

  const zh = await addStageAndPublish(page, 'seed-five-stage.zh-CN', '方案演示', 'zh');

  let moved;
  await step('preview the migration of the open deals, then apply it', async () => {
    await navigate(page, () => page.locator('[data-testid="migrate-link"]').click());
    if (path(page) !== `/processes/${zh.processId}/migrate`) fail(`not on the migration page: ${path(page)}`);
    const chosen = await page.locator('select[name="map.recommendation"]').inputValue();
    if (chosen !== 'recommendation') fail(`recommendation is mapped to ${chosen}`);
    const count = Number(await page.locator('[data-testid="deal-count"]').textContent());
    if (!(count > 0)) fail('no open deals to migrate in the demo data');
    const landed = await page.locator('[data-testid="landing-count"]').allTextContents();
    if (landed.map(Number).reduce((a, b) => a + b, 0) !== count) fail(`landing ${landed} does not add up to ${count}`);
    await page.screenshot({ path: join(artefacts, 'migrate-zh.png'), fullPage: true });
    await navigate(page, () => page.locator('[data-testid="apply"]').click());
    await page.locator('[data-testid="migration-applied"]').waitFor();
    moved = count;
    log(`  migrated ${count} open deals`);
  });

  await step('a migrated deal shows the new flowchart', async () => {
    const deals = await api(page, `/api/v1/deals?process=${zh.processId}&status=open&limit=5`);
    const deal = deals.json.items.find((d) => d.process_version === zh.version);
    if (!deal) fail(`no open deal on version ${zh.version} after migrating ${moved}`);
    await goto(page, `/deals/${deal.id}`);
    const figure = page.locator(`g[data-flow-node="${zh.stageId}"]`);
    await until('the new stage in the deal’s flowchart', async () => (await figure.count()) === 1);
    const flow = page.locator('figure').filter({ has: figure }).first();
    await flow.evaluate((el) => {
      const details = el.closest('details');
      if (details) details.open = true;
    });
    const events = await api(page, `/api/v1/deals/${deal.id}/events`);
    const last = events.json.items[events.json.items.length - 1];
    if (last.kind !== 'migrated') fail(`the deal's last event is ${last.kind}`);
    await page.screenshot({ path: join(artefacts, 'deal-flowchart-zh.png'), fullPage: true });
  });

  await step('switch to English', async () => {
    const button = page.locator('form[data-testid="locale-switch"] button[name="locale"][value="en"]');
    await navigate(page, () => button.click());
    const lang = await page.evaluate(() => document.documentElement.lang);
    if (lang !== 'en') fail(`<html lang> is ${lang}`);
  });

  await addStageAndPublish(page, 'seed-five-stage.en', 'Solution demo', 'en');
  await step('the editor spoke English', async () => {
    const label = await page.locator('[data-testid="version-actions"]').textContent();
    if (!/[A-Za-z]{3,}/.test(label)) fail(`the version actions are not English: ${label}`);
  });
}

await runPages({ name: 'editor scenario', artefacts, body: scenario });
