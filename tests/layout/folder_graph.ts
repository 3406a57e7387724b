/**
 * The import graph of `src/` by folder: each folder under `src/` is one node, each file directly in `src/`
 * is a node of its own (the composition root). Used by folder_cycles_test.ts.
 */
import { dirname, join, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const SRC = resolve(dirname(fileURLToPath(import.meta.url)), "../../src");

/** Relative `import`/`export … from` specifiers of a module (type-only imports included). */
const IMPORT = /(?:^|\n)\s*(?:import|export)\s(?:[^"';]*?\sfrom\s)?["'](\.{1,2}\/[^"']+)["']/g;

function nodeOf(file: string): string {
  const rel = relative(SRC, file);
  const slash = rel.indexOf("/");
  return slash < 0 ? rel : rel.slice(0, slash);
}

function* sourceFiles(dir: string): Generator<string> {
  for (const entry of Deno.readDirSync(dir)) {
    const path = join(dir, entry.name);
    if (entry.isDirectory) yield* sourceFiles(path);
    else if (entry.name.endsWith(".ts")) yield path;
  }
}

/** Edges between nodes, with one example import for each (`from → to: file imports spec`). */
export function folderGraph(): Map<string, Map<string, string>> {
  const graph = new Map<string, Map<string, string>>();
  for (const file of sourceFiles(SRC)) {
    const from = nodeOf(file);
    const edges = graph.get(from) ?? new Map<string, string>();
    graph.set(from, edges);
    for (const match of Deno.readTextFileSync(file).matchAll(IMPORT)) {
      const target = resolve(dirname(file), match[1]!);
      if (!target.startsWith(SRC + "/")) continue;
      const to = nodeOf(target);
      if (to !== from && !edges.has(to)) edges.set(to, `${relative(SRC, file)} imports ${match[1]}`);
    }
  }
  return graph;
}

/** Strongly connected components with more than one node: each is a set of folders importing each other. */
export function cycles(graph: Map<string, Map<string, string>>): string[][] {
  let index = 0;
  const indices = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const found: string[][] = [];
  const visit = (node: string): void => {
    indices.set(node, index);
    low.set(node, index);
    index++;
    stack.push(node);
    onStack.add(node);
    for (const next of graph.get(node)?.keys() ?? []) {
      if (!indices.has(next)) {
        visit(next);
        low.set(node, Math.min(low.get(node)!, low.get(next)!));
      } else if (onStack.has(next)) {
        low.set(node, Math.min(low.get(node)!, indices.get(next)!));
      }
    }
    if (low.get(node) === indices.get(node)) {
      const component: string[] = [];
      let member: string;
      do {
        member = stack.pop()!;
        onStack.delete(member);
        component.push(member);
      } while (member !== node);
      if (component.length > 1) found.push(component.sort());
    }
  };
  for (const node of [...graph.keys()].sort()) if (!indices.has(node)) visit(node);
  return found;
}

if (import.meta.main) {
  const graph = folderGraph();
  for (const component of cycles(graph)) {
    console.log(`cycle: ${component.join(", ")}`);
    for (const from of component) {
      for (const [to, why] of graph.get(from) ?? []) {
        if (component.includes(to)) console.log(`  ${from} → ${to}: ${why}`);
      }
    }
  }
}
