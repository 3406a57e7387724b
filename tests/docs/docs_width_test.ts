/**
 * The README and docs/ read in a 110-column terminal: no table row is wider than 110 characters (deno fmt
 * pads every row of a table to its widest cell, so one long cell widens the whole table), and every link to
 * another docs page points at a file that exists.
 */
import assert from "node:assert/strict";

const root = new URL("../../", import.meta.url);

async function markdownFiles(): Promise<string[]> {
  const files = ["README.md"];
  for await (const entry of Deno.readDir(new URL("docs/", root))) {
    if (entry.name.endsWith(".md")) files.push(`docs/${entry.name}`);
  }
  return files.sort();
}

Deno.test("README.md and docs/*.md tables fit 110 columns", async () => {
  const wide: string[] = [];
  for (const file of await markdownFiles()) {
    const lines = (await Deno.readTextFile(new URL(file, root))).split("\n");
    lines.forEach((line, i) => {
      if (line.startsWith("|") && [...line].length > 110) wide.push(`${file}:${i + 1} (${[...line].length})`);
    });
  }
  assert.deepEqual(wide, []);
});

Deno.test("README.md stays short and links into docs/", async () => {
  const readme = await Deno.readTextFile(new URL("README.md", root));
  assert.ok(readme.split("\n").length <= 150, "README.md is over 150 lines: move reference text into docs/");
  assert.ok(
    readme.includes("npx -y deno@2.9.6 task start") && readme.includes("npx -y deno@2.9.6 task test"),
  );
});

Deno.test("relative links in README.md and docs/ point at files that exist", async () => {
  const broken: string[] = [];
  for (const file of await markdownFiles()) {
    const text = await Deno.readTextFile(new URL(file, root));
    for (const match of text.matchAll(/\]\(([^)#\s]+)(#[^)]*)?\)/g)) {
      const target = match[1]!;
      if (/^[a-z]+:/.test(target)) continue; // http:, https:, mailto:
      try {
        await Deno.stat(new URL(target, new URL(file, root)));
      } catch {
        broken.push(`${file}: ${target}`);
      }
    }
  }
  assert.deepEqual(broken, []);
});
