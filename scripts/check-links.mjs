// Fails when a relative link in README.md or docs/*.md points at a file that does not exist, or
// at an anchor (#...) that no heading of the target Markdown file produces. Anchors follow
// GitHub's rule: lower-case, punctuation dropped, spaces to hyphens, -1, -2... for repeats.
// Links inside code blocks and inline code are not links; external URLs are not checked.
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";

const root = resolve(import.meta.dirname, "..");
const docs = join(root, "docs");
const pages = [
  join(root, "README.md"),
  ...readdirSync(docs)
    .filter((n) => n.endsWith(".md"))
    .map((n) => join(docs, n)),
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

for (const p of problems) console.error(`link: ${p}`);
if (problems.length > 0) process.exit(1);
console.log(
  `${checked} relative links in ${pages.length} Markdown files point at existing files and headings`,
);
