// The exchange formats checked by the parsers other tools use. crates/flowchart/tests/formats.rs
// writes, for every shipped template, <key>.bpmn, <key>.mmd, <key>.drawio and <key>.json (the
// expected counts) into a directory and runs: node formats.mjs <dir>
//
// 1. BPMN: bpmn-moddle (the model layer of bpmn.io and Camunda Modeler) parses each file with no
//    warnings; the process has the expected tasks, gateways, events and flows, and the diagram a
//    shape or edge for each of them. Each is written back with bpmn-moddle as <key>.saved.bpmn
//    (what the modeler would save), which formats.rs imports again.
// 2. Mermaid: Mermaid itself renders each file in Chromium (mermaid.render) without an error.
// 3. draw.io: the XML parses (the browser's DOMParser), cells 0 and 1 exist, ids are unique,
//    every parent, source and target names a cell, vertex and edge counts match.
// Exits 1 listing every failure.

import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { inflateRawSync } from 'node:zlib';
import { BpmnModdle } from 'bpmn-moddle';
import { launchChromium } from './harness.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const dir = process.argv[2];
if (!dir) {
  console.error('usage: node formats.mjs <directory of .bpmn/.mmd/.drawio/.json files>');
  process.exit(2);
}
const files = readdirSync(dir).sort();
const keys = files.filter((f) => f.endsWith('.json')).map((f) => f.slice(0, -'.json'.length));
if (keys.length === 0) {
  console.error(`no <key>.json files in ${dir}`);
  process.exit(2);
}
const read = (key, ext) => readFileSync(join(dir, `${key}.${ext}`), 'utf8');
const failures = [];
const fail = (file, message) => failures.push(`${file}: ${message}`);

// --- 1. BPMN through bpmn-moddle -------------------------------------------------------------

const moddle = new BpmnModdle();
for (const key of keys) {
  const file = `${key}.bpmn`;
  const expected = JSON.parse(read(key, 'json'));
  const before = failures.length;
  let parsed;
  try {
    parsed = await moddle.fromXML(read(key, 'bpmn'));
  } catch (e) {
    fail(file, `bpmn-moddle could not parse it: ${e.message}`);
    continue;
  }
  const { rootElement: definitions, warnings } = parsed;
  if (warnings.length !== 0) {
    fail(file, `bpmn-moddle warnings:\n  ${warnings.map((w) => w.message).join('\n  ')}`);
  }
  const processes = (definitions.rootElements || []).filter((e) => e.$type === 'bpmn:Process');
  if (processes.length !== 1) {
    fail(file, `expected one bpmn:Process, found ${processes.length}`);
    continue;
  }
  const elements = processes[0].flowElements || [];
  const count = (type) => elements.filter((e) => e.$type === type).length;
  const got = {
    tasks: count('bpmn:Task'),
    gateways: count('bpmn:ExclusiveGateway'),
    endEvents: count('bpmn:EndEvent'),
    startEvents: count('bpmn:StartEvent'),
    flows: count('bpmn:SequenceFlow'),
  };
  for (const [what, n] of Object.entries(got)) {
    if (n !== expected[what]) fail(file, `expected ${expected[what]} ${what}, bpmn-moddle found ${n}`);
  }
  if (elements.length !== Object.values(got).reduce((a, b) => a + b, 0)) {
    fail(file, `unexpected flow elements: ${elements.map((e) => e.$type).join(', ')}`);
  }
  for (const flow of elements.filter((e) => e.$type === 'bpmn:SequenceFlow')) {
    if (!flow.sourceRef || !flow.targetRef) fail(file, `sequence flow ${flow.id} has an unresolved end`);
  }
  const plane = definitions.diagrams?.[0]?.plane;
  if (!plane || plane.bpmnElement !== processes[0]) {
    fail(file, 'no BPMNDiagram whose plane shows the process');
    continue;
  }
  const shown = new Set((plane.planeElement || []).map((d) => d.bpmnElement));
  for (const e of elements) {
    if (!shown.has(e)) fail(file, `${e.id} has no shape or edge in the diagram`);
  }
  for (const d of plane.planeElement || []) {
    if (d.$type === 'bpmndi:BPMNShape' && !(d.bounds && d.bounds.width > 0 && d.bounds.height > 0)) {
      fail(file, `shape ${d.id} has no bounds`);
    }
    if (d.$type === 'bpmndi:BPMNEdge' && !(d.waypoint && d.waypoint.length >= 2)) {
      fail(file, `edge ${d.id} has fewer than two waypoints`);
    }
  }
  // Saved again the way bpmn.io saves it, for formats.rs to import back.
  const { xml: saved } = await moddle.toXML(definitions, { format: true });
  writeFileSync(join(dir, `${key}.saved.bpmn`), saved);
  if (failures.length === before) console.log(`ok   ${file}: ${JSON.stringify(got)}`);
}

// --- 2 and 3. Mermaid and draw.io in Chromium ------------------------------------------------

/// A draw.io <diagram> may hold its model compressed: base64 of raw deflate of the URI-encoded XML.
function drawioModel(text) {
  const m = text.match(/<diagram\b[^>]*>([^<]+)<\/diagram>/);
  if (!m) return text;
  const xml = inflateRawSync(Buffer.from(m[1].trim(), 'base64')).toString('utf8');
  return decodeURIComponent(xml);
}

const browser = await launchChromium();
try {
  const page = await browser.newPage();
  await page.setContent('<!doctype html><html><head><meta charset="utf-8"></head><body></body></html>');
  await page.addScriptTag({ path: join(here, 'node_modules/mermaid/dist/mermaid.min.js') });

  const mermaidInputs = keys.map((key) => ({ file: `${key}.mmd`, text: read(key, 'mmd'), expected: JSON.parse(read(key, 'json')) }));
  const mermaidResults = await page.evaluate(async (inputs) => {
    mermaid.initialize({ startOnLoad: false, securityLevel: 'strict' });
    const out = [];
    for (const [i, input] of inputs.entries()) {
      try {
        const { svg } = await mermaid.render('g' + i, input.text);
        const doc = new DOMParser().parseFromString(svg, 'image/svg+xml');
        const nodes = doc.querySelectorAll('g.node').length;
        const edges = doc.querySelectorAll('.edgePaths path, path.flowchart-link').length;
        out.push({ file: input.file, ok: true, nodes, edges, error: svg.includes('Syntax error') ? 'the SVG shows a syntax error' : null });
      } catch (e) {
        out.push({ file: input.file, ok: false, error: String(e && e.message ? e.message : e) });
      }
    }
    return out;
  }, mermaidInputs);
  for (const [i, r] of mermaidResults.entries()) {
    const expected = mermaidInputs[i].expected;
    if (!r.ok || r.error) {
      fail(r.file, `mermaid.render failed: ${r.error}`);
    } else if (r.nodes < expected.nodes) {
      fail(r.file, `Mermaid drew ${r.nodes} nodes, the process has ${expected.nodes}`);
    } else if (r.edges < expected.edges) {
      fail(r.file, `Mermaid drew ${r.edges} edges, the process has ${expected.edges}`);
    } else {
      console.log(`ok   ${r.file}: rendered, ${r.nodes} nodes, ${r.edges} edges`);
    }
  }

  const drawioInputs = [];
  for (const key of keys) {
    try {
      drawioInputs.push({ file: `${key}.drawio`, text: drawioModel(read(key, 'drawio')), expected: JSON.parse(read(key, 'json')) });
    } catch (e) {
      fail(`${key}.drawio`, `cannot read the diagram: ${e.message}`);
    }
  }
  const drawioResults = await page.evaluate((inputs) => {
    return inputs.map(({ file, text, expected }) => {
      const problems = [];
      const doc = new DOMParser().parseFromString(text, 'application/xml');
      const err = doc.querySelector('parsererror');
      if (err) return { file, problems: [`not well-formed XML: ${err.textContent.slice(0, 300)}`] };
      const cells = [...doc.getElementsByTagName('mxCell')];
      const ids = new Map();
      for (const c of cells) {
        const id = c.getAttribute('id');
        if (id === null) problems.push('an mxCell has no id');
        else if (ids.has(id)) problems.push(`cell id ${id} is used twice`);
        else ids.set(id, c);
      }
      if (!ids.has('0')) problems.push('cell 0 (the root) is missing');
      if (!ids.has('1')) problems.push('cell 1 (the default layer) is missing');
      else if (ids.get('1').getAttribute('parent') !== '0') problems.push('cell 1 must have parent 0');
      for (const c of cells) {
        const id = c.getAttribute('id');
        const parent = c.getAttribute('parent');
        if (id !== '0' && (parent === null || !ids.has(parent))) problems.push(`cell ${id}: parent ${parent} is not a cell`);
        if (c.getAttribute('edge') === '1') {
          for (const end of ['source', 'target']) {
            const ref = c.getAttribute(end);
            if (ref === null || !ids.has(ref)) problems.push(`edge ${id}: ${end} ${ref} is not a cell`);
            else if (ids.get(ref).getAttribute('vertex') !== '1') problems.push(`edge ${id}: ${end} ${ref} is not a vertex`);
          }
        }
      }
      const edges = cells.filter((c) => c.getAttribute('edge') === '1').length;
      const vertices = cells.filter((c) => c.getAttribute('vertex') === '1').length;
      if (edges !== expected.edges) problems.push(`${edges} edge cells, the process has ${expected.edges} edges`);
      if (vertices < expected.nodes) problems.push(`${vertices} vertex cells, the process has ${expected.nodes} nodes`);
      return { file, problems, edges, vertices };
    });
  }, drawioInputs);
  for (const r of drawioResults) {
    if (r.problems.length) r.problems.forEach((p) => fail(r.file, p));
    else console.log(`ok   ${r.file}: ${r.vertices} vertices, ${r.edges} edges`);
  }
} finally {
  await browser.close();
}

if (failures.length) {
  console.error(`\n${failures.length} problem(s):\n${failures.join('\n')}`);
  process.exit(1);
}
console.log(`\nall ${keys.length} processes pass bpmn-moddle, Mermaid and the draw.io structure check`);
