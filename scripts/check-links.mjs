// Fails when a relative link in README.md, docs/*.md or deploy/kubernetes/README.md points at a file that does not exist, or
// at an anchor (#...) that no heading of the target Markdown file produces; and when a comment in
// src/, test/, bench/, scripts/ or demo/ cites `README.md#...` or `docs/x.md#...` that way and the
// heading is gone. Anchors follow GitHub's rule: lower-case, punctuation dropped, spaces to
// hyphens, -1, -2... for repeats. Links inside code blocks and inline code are not links;
// external URLs are not checked.
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";

const root = resolve(import.meta.dirname, "..");
const docs = join(root, "docs");
const pages = [
  join(root, "README.md"),
  ...readdirSync(docs)
    .filter((n) => n.endsWith(".md"))
    .map((n) => join(docs, n)),
  join(root, "deploy/kubernetes/README.md"),
];

/** The text outside fenced code blocks, line by line (fenced lines become empty). */
function prose(text) {
  let fence = null;
  return text.split("\n").map((line) => {
    const m = /^\s*(```+|~~~+)/.exec(line);
    if (m) {
      if (fence === null) fence = m[1];
      else if (m[1].startsWith(fence)) fence = null;
      return "";
    }
    return fence === null ? line : "";
  });
}

function slug(heading) {
  return heading
    .replace(/<[^>]+>/g, "")
    .trim()
    .toLowerCase()
    .replace(/[^\p{L}\p{N}\s_-]/gu, "")
    .replace(/\s/g, "-");
}

const anchorCache = new Map();
function anchors(file) {
  if (!anchorCache.has(file)) {
    const seen = new Map();
    const set = new Set();
    for (const line of prose(readFileSync(file, "utf8"))) {
      const m = /^#{1,6}\s+(.*?)\s*#*\s*$/.exec(line);
      if (!m) continue;
      const base = slug(m[1]);
      const n = seen.get(base) ?? 0;
      seen.set(base, n + 1);
      set.add(n === 0 ? base : `${base}-${n}`);
    }
    anchorCache.set(file, set);
  }
  return anchorCache.get(file);
}

const problems = [];
let checked = 0;
for (const page of pages) {
  const lines = prose(readFileSync(page, "utf8"));
  lines.forEach((line, i) => {
    const text = line.replace(/`[^`]*`/g, "``");
    for (const m of text.matchAll(/\]\(([^)\s]+)(?:\s+"[^"]*")?\)/g)) {
      const href = m[1];
      if (/^[a-z][a-z0-9+.-]*:/i.test(href)) continue;
      checked++;
      const [path, anchor] = href.split("#", 2);
      const target = path === "" ? page : resolve(dirname(page), decodeURIComponent(path));
      const where = `${relative(root, page)}:${i + 1}`;
      if (!existsSync(target)) {
        problems.push(`${where}: ${href}: no such file`);
        continue;
      }
      if (anchor !== undefined && target.endsWith(".md") && !anchors(target).has(anchor)) {
        problems.push(`${where}: ${href}: no heading with that anchor in ${relative(root, target)}`);
      }
    }
  });
}

// Citations from code: `docs/architecture.md#glossary` or `README.md#routes`, as written in comments.
const codeFiles = [];
function walk(dir) {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) walk(path);
    else if (/\.(ts|tsx|mjs|js|cjs)$/.test(entry.name)) codeFiles.push(path);
  }
}
for (const dir of ["src", "test", "bench", "scripts", "demo"])
  if (existsSync(join(root, dir))) walk(join(root, dir));
let cited = 0;
for (const file of codeFiles) {
  readFileSync(file, "utf8")
    .split("\n")
    .forEach((line, i) => {
      for (const m of line.matchAll(/\b((?:docs\/[\w-]+|README)\.md)#([\w-]+)/g)) {
        cited++;
        const target = join(root, m[1]);
        const where = `${relative(root, file)}:${i + 1}`;
        if (!existsSync(target)) problems.push(`${where}: ${m[1]}: no such file`);
        else if (!anchors(target).has(m[2]))
          problems.push(`${where}: ${m[1]}#${m[2]}: no heading with that anchor`);
      }
    });
}

for (const p of problems) console.error(`link: ${p}`);
if (problems.length > 0) process.exit(1);
console.log(
  `${checked} relative links in ${pages.length} Markdown files and ${cited} citations in code point at existing headings`,
);
