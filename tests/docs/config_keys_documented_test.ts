/**
 * Every key the config parser accepts is documented in docs/configuration.md. The keys are collected from
 * the parser's own source: every `reader.mapping(value, path, allowed)` call in src/config/, where `allowed`
 * is an array literal or a `const NAME = [...]` of the same file.
 */
import assert from "node:assert/strict";

const root = new URL("../../", import.meta.url);

/** Keys accepted by the `reader.mapping` calls in `source` (the config sources, concatenated). */
export function acceptedKeys(source: string): string[] {
  const lists = new Map<string, string>();
  for (const m of source.matchAll(/const ([A-Z_]+) = \[([^\]]*)\]/g)) lists.set(m[1] ?? "", m[2] ?? "");
  const expand = (arrayText: string): string[] =>
    [...arrayText.matchAll(/"([^"]+)"|\.\.\.([A-Z_]+)/g)].flatMap((m) =>
      m[1] !== undefined ? [m[1]] : named(m[2] ?? "")
    );
  const named = (name: string): string[] => {
    const list = lists.get(name);
    assert.ok(list !== undefined, `allowed-key list ${name} not found in src/config/`);
    return expand(list);
  };
  const keys: string[] = [];
  for (const m of source.matchAll(/\.mapping\(([^;]*?),\s*(\[[^\]]*\]|[A-Z_]+)\s*\)/gs)) {
    const allowed = m[2] ?? "";
    keys.push(...(allowed.startsWith("[") ? expand(allowed) : named(allowed)));
  }
  return keys;
}

function configSource(): string {
  let source = "";
  for (const entry of Deno.readDirSync(new URL("src/config/", root))) {
    if (entry.isFile && entry.name.endsWith(".ts")) {
      source += Deno.readTextFileSync(new URL(`src/config/${entry.name}`, root)) + "\n";
    }
  }
  return source;
}

Deno.test("docs: the key collector reads literal and named allowed-key lists", () => {
  const source = `const A_KEYS = ["one", "two"];\nconst B = ["zero", ...A_KEYS];\n` +
    `reader.mapping(v, ["x"], B);\nreader.mapping(m.match, [...p, "match"], ["three"]) ?? {};`;
  assert.deepEqual(acceptedKeys(source), ["zero", "one", "two", "three"]);
});

Deno.test("docs: every key the config parser accepts appears in docs/configuration.md", () => {
  const keys = new Set(acceptedKeys(configSource()));
  assert.ok(keys.has("max_body_size") && keys.has("ping_interval"), "the collector found the section keys");
  assert.ok(keys.size > 60, `only ${keys.size} keys collected`);
  const doc = Deno.readTextFileSync(new URL("docs/configuration.md", root));
  // A key is documented when it appears in backticks, alone or as one part of a dotted path
  // (`limits.max_body_size` documents `limits` and `max_body_size`).
  const path = "[\\w.\\[\\]]*";
  const documented = (key: string) => new RegExp(`\`(${path}\\.)?${key}(\\.${path})?\``).test(doc);
  const missing = [...keys].filter((key) => !documented(key));
  assert.deepEqual(missing, []);
});
