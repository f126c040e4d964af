import { readFileSync } from "node:fs";

/** One Dockerfile instruction, continuation lines joined. */
export interface Instruction {
  keyword: string;
  args: string;
  line: number;
}

export interface Stage {
  from: string;
  name: string | null;
  instructions: Instruction[];
}

/** A small Dockerfile reader: enough to replay our own file's steps, not a general parser. */
export function readDockerfile(path: string): Stage[] {
  const stages: Stage[] = [];
  const lines = readFileSync(path, "utf8").split("\n");
  for (let i = 0; i < lines.length; i++) {
    const start = i;
    let text = (lines[i] as string).trim();
    if (text === "" || text.startsWith("#")) continue;
    while (text.endsWith("\\") && i + 1 < lines.length) {
      i++;
      const next = (lines[i] as string).trim();
      text = `${text.slice(0, -1).trimEnd()} ${next.startsWith("#") ? "" : next}`.trimEnd();
    }
    const m = /^(\S+)\s+(.*)$/s.exec(text);
    if (!m) throw new Error(`Dockerfile line ${start + 1}: cannot read ${text}`);
    const keyword = (m[1] as string).toUpperCase();
    const args = m[2] as string;
    if (keyword === "FROM") {
      const from = /^(\S+)(?:\s+AS\s+(\S+))?$/i.exec(args);
      if (!from) throw new Error(`Dockerfile line ${start + 1}: bad FROM`);
      stages.push({ from: from[1] as string, name: from[2] ?? null, instructions: [] });
      continue;
    }
    const stage = stages[stages.length - 1];
    if (!stage) throw new Error(`Dockerfile line ${start + 1}: ${keyword} before FROM`);
    stage.instructions.push({ keyword, args, line: start + 1 });
  }
  return stages;
}

/** `ENV A=1 B=2` (the key=value form) as pairs. */
export function envPairs(args: string): Array<[string, string]> {
  return [...args.matchAll(/(\w+)=("[^"]*"|\S+)/g)].map((m) => [
    m[1] as string,
    (m[2] as string).replace(/^"|"$/g, ""),
  ]);
}

/** The exec form `["a", "b"]` of CMD/ENTRYPOINT/HEALTHCHECK CMD. */
export function execForm(args: string): string[] {
  const json = args.slice(args.indexOf("["));
  const parsed: unknown = JSON.parse(json);
  if (!Array.isArray(parsed) || !parsed.every((a) => typeof a === "string"))
    throw new Error(`not exec form: ${args}`);
  return parsed;
}
