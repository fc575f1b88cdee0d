// The house rules that a reader of src/ relies on, checked from the imports (read as text):
//  1. no two top-level folders of src/ import each other, directly or through a cycle (files at the root
//     of src/ — main.ts, app.module.ts, features.ts, … — are the composition root and may import anything);
//  2. outside src/common/, the access contract is imported through src/common/index.ts only;
//  3. no production file is over 300 lines.
// Specs, tests and migrations are left out. Usage: node scripts/check-architecture.mjs (exit 1 on a finding)
import fs from 'node:fs';
import path from 'node:path';

const MAX_LINES = 300;
const root = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..');
const src = path.join(root, 'src');
const common = path.join(src, 'common');
const rel = (f) => path.relative(root, f);

const files = [];
(function walk(dir) {
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, entry.name);
    if (entry.isDirectory()) {
      if (entry.name !== 'migrations') walk(p);
    } else if (entry.name.endsWith('.ts') && !/\.(spec|int-spec)\.ts$/.test(entry.name)) files.push(p);
  }
})(src);

const folderOf = (f) => {
  const parts = path.relative(src, f).split(path.sep);
  return parts.length > 1 ? parts[0] : null;
};
const edges = new Map(); // folder -> Map(folder -> example)
const findings = [];
for (const file of files) {
  const text = fs.readFileSync(file, 'utf8');
  const lines = text.split('\n').length;
  if (lines > MAX_LINES) findings.push(`${rel(file)} has ${lines} lines (at most ${MAX_LINES})`);
  const from = folderOf(file);
  for (const [, spec] of text.matchAll(/^(?:import|export)\s[^'"]*?from\s+['"](\.[^'"]+)['"]/gm)) {
    const target = path.resolve(path.dirname(file), spec);
    const to = folderOf(target);
    if (from && from !== 'common' && target.startsWith(common + path.sep) && target !== path.join(common, 'index.js')) {
      findings.push(`${rel(file)} imports ${spec}: use ../common/index.js (the access contract)`);
    }
    if (!from || !to || from === to) continue;
    if (!edges.has(from)) edges.set(from, new Map());
    if (!edges.get(from).has(to)) edges.get(from).set(to, `${rel(file)} imports ${spec}`);
  }
}

// A cycle exists when some folder reaches itself; report each pair of folders that reach each other.
const reach = (start) => {
  const seen = new Set();
  const stack = [...(edges.get(start)?.keys() ?? [])];
  while (stack.length) {
    const next = stack.pop();
    if (seen.has(next)) continue;
    seen.add(next);
    stack.push(...(edges.get(next)?.keys() ?? []));
  }
  return seen;
};
for (const [from, targets] of edges) {
  for (const [to, example] of targets) {
    if (reach(to).has(from)) findings.push(`${from} -> ${to} closes a cycle (${example})`);
  }
}

const folders = [...new Set(files.map(folderOf).filter(Boolean))].sort();
console.log(`checked ${files.length} files in ${folders.length} folders (${folders.join(', ')})`);
for (const finding of findings) console.log(`  ${finding}`);
console.log(findings.length ? `${findings.length} finding(s)` : 'no cycles, contract imported through its index, no file over 300 lines');
process.exit(findings.length ? 1 : 0);
