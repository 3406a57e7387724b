/**
 * Tables in README.md and docs/*.md stay readable in a 110-column terminal: no table row is longer than
 * 110 characters (deno fmt pads every row to the widest cell, so one wide cell widens the whole table).
 */
import assert from "node:assert/strict";

const MAX = 110;
const root = new URL("../../", import.meta.url);

function markdownFiles(): URL[] {
  const files = [new URL("README.md", root)];
  for (const entry of Deno.readDirSync(new URL("docs/", root))) {
    if (entry.isFile && entry.name.endsWith(".md")) files.push(new URL(`docs/${entry.name}`, root));
  }
  return files;
}

/** Table rows (lines starting with `|`, outside fenced code) longer than MAX characters. */
export function wideTableRows(text: string): { line: number; width: number }[] {
  const wide: { line: number; width: number }[] = [];
  let fenced = false;
  text.split("\n").forEach((row, i) => {
    if (row.startsWith("```")) fenced = !fenced;
    const width = [...row].length;
    if (!fenced && row.startsWith("|") && width > MAX) wide.push({ line: i + 1, width });
  });
  return wide;
}

Deno.test("docs: the width check finds a wide table row", () => {
  const row = `| ${"x".repeat(MAX)} |`;
  assert.deepEqual(wideTableRows(`text\n\n${row}\n`), [{ line: 3, width: MAX + 4 }]);
  assert.deepEqual(wideTableRows("```\n" + row + "\n```\n"), []);
});

Deno.test("docs: no table row in README.md or docs/*.md is wider than 110 characters", () => {
  const files = markdownFiles();
  assert.ok(files.length > 5, "docs/ holds the reference pages");
  const problems = files.flatMap((file) =>
    wideTableRows(Deno.readTextFileSync(file)).map(({ line, width }) =>
      `${file.pathname.slice(root.pathname.length)}:${line}: ${width} characters`
    )
  );
  assert.deepEqual(problems, []);
});
