// Fails when src/ has an import cycle, or when a folder imports one it must not: imports run one
// way (main -> admin/ingest -> deliver -> store/transport -> classify/model), as
// docs/architecture.md#import-direction draws it. A small DFS over relative imports, no dependencies.
import { readdirSync, readFileSync, statSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";

const root = resolve(import.meta.dirname, "../src");
const files = [];
(function walk(dir) {
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) walk(path);
    else if (/\.tsx?$/.test(name) && !name.endsWith(".d.ts")) files.push(path);
  }
})(root);

const importRe = /(?:^|\n)\s*(?:import|export)\s[^;]*?from\s+["'](\.[^"']+)["']/g;
const graph = new Map();
for (const file of files) {
  const text = readFileSync(file, "utf8");
  const deps = [];
  for (const m of text.matchAll(importRe)) {
    const target = resolve(dirname(file), m[1]).replace(/\.js$/, "");
    const found = [".ts", ".tsx", "/index.ts"].map((ext) => target + ext).find((p) => files.includes(p));
    if (found) deps.push(found);
  }
  graph.set(file, deps);
}

const state = new Map(); // 1 = on stack, 2 = done
const cycles = [];
function visit(file, stack) {
  state.set(file, 1);
  stack.push(file);
  for (const dep of graph.get(file) ?? []) {
    if (state.get(dep) === 1) cycles.push([...stack.slice(stack.indexOf(dep)), dep]);
    else if (!state.has(dep)) visit(dep, stack);
  }
  stack.pop();
  state.set(file, 2);
}
for (const file of files) if (!state.has(file)) visit(file, []);

// Folder rules: which top-level folders of src/ each folder may import (besides itself and the
// single-file modules at the top of src/, which import no folder but config).
const mayImport = {
  // The transport runs on the delivery thread: no SQLite, no delivery policy.
  transport: ["classify", "config", "verify"],
  store: ["config"],
  // Stats read what the store committed and views handed in: never delivery or ingest.
  stats: ["config", "store"],
  // What both listeners share (the error body and its renderer): plain HTTP, no domain.
  http: [],
  classify: [],
  verify: ["config"],
  config: [],
};
const violations = [];
for (const [file, deps] of graph) {
  const from = relative(root, file).split("/");
  if (from.length < 2 || !(from[0] in mayImport)) continue;
  for (const dep of deps) {
    const to = relative(root, dep).split("/");
    if (to.length < 2 || to[0] === from[0] || mayImport[from[0]].includes(to[0])) continue;
    violations.push(
      `${relative(root, file)} imports ${relative(root, dep)} (${from[0]}/ may import: ${mayImport[from[0]].join(", ") || "no folder"})`,
    );
  }
}
for (const v of violations) console.error(`layering: ${v}`);

if (cycles.length > 0 || violations.length > 0) {
  for (const c of cycles) console.error(`import cycle: ${c.map((f) => relative(root, f)).join(" -> ")}`);
  process.exit(1);
}
console.log(`no import cycles, no layering violations in ${files.length} modules`);
