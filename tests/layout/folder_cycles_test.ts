import assert from "node:assert/strict";
import { cycles, folderGraph } from "./folder_graph.ts";

/**
 * Folders that still import each other (none left). Keep it empty. (`deno run --allow-read
 * tests/layout/folder_graph.ts` prints every edge of every cycle.) The last one, proxy ↔ transport, went when
 * ProxyError moved to src/errors.ts and HeaderRecord to transport/transport.ts.
 */
const KNOWN_CYCLES: string[][] = [];

Deno.test("no folder of src/ imports from a folder that imports it back (beyond the known list)", () => {
  const graph = folderGraph();
  assert.ok(graph.has("balancer") && graph.has("pool"), "the graph covers src/");
  const found = cycles(graph).sort((a, b) => a.join().localeCompare(b.join()));
  assert.deepEqual(found, KNOWN_CYCLES, `cycles: ${JSON.stringify(found)}`);
});

Deno.test("the cycle finder reports a loop between two folders and none in a chain", () => {
  const loop = new Map([["a", new Map([["b", ""]])], ["b", new Map([["a", ""]])], [
    "c",
    new Map([["a", ""]]),
  ]]);
  assert.deepEqual(cycles(loop), [["a", "b"]]);
  const chain = new Map([["a", new Map([["b", ""]])], ["b", new Map([["c", ""]])], ["c", new Map()]]);
  assert.deepEqual(cycles(chain), []);
});

Deno.test("upstream/ holds only the leaf Upstream type: it imports no other folder", () => {
  assert.deepEqual([...folderGraph().get("upstream")?.keys() ?? []], []);
});
