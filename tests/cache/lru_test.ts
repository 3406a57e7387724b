import assert from "node:assert/strict";
import { type EvictReason, Lru } from "../../src/cache/lru.ts";

Deno.test("Lru.set() evicts the least recently used entry beyond maxEntries", () => {
  const evicted: Array<[string, EvictReason]> = [];
  const lru = new Lru<string, number>({ maxEntries: 2, onEvict: (k, _v, r) => evicted.push([k, r]) });
  lru.set("a", 1);
  lru.set("b", 2);
  assert.equal(lru.get("a"), 1); // a is now most recent
  lru.set("c", 3);
  assert.deepEqual([...lru.keys()], ["a", "c"]);
  assert.deepEqual(evicted, [["b", "capacity"]]);
});

Deno.test("Lru.set() evicts until the byte bound holds and rejects entries larger than maxBytes", () => {
  const lru = new Lru<string, string>({ maxBytes: 100 });
  lru.set("a", "x", 40);
  lru.set("b", "y", 40);
  lru.set("c", "z", 50);
  assert.deepEqual([...lru.keys()], ["b", "c"]);
  assert.equal(lru.bytes, 90);
  assert.equal(lru.set("huge", "w", 101), false);
  assert.equal(lru.has("huge"), false);
  assert.equal(lru.size, 2);
});

Deno.test("Lru.set() replacing a key adjusts bytes and reports 'replaced'", () => {
  const reasons: EvictReason[] = [];
  const lru = new Lru<string, number>({ onEvict: (_k, _v, r) => reasons.push(r) });
  lru.set("a", 1, 10);
  lru.set("a", 2, 30);
  assert.equal(lru.bytes, 30);
  assert.equal(lru.size, 1);
  assert.equal(lru.peek("a"), 2);
  assert.deepEqual(reasons, ["replaced"]);
});

Deno.test("Lru.peek() does not change recency while get() does", () => {
  const lru = new Lru<string, number>({ maxEntries: 2 });
  lru.set("a", 1);
  lru.set("b", 2);
  lru.peek("a");
  lru.set("c", 3);
  assert.equal(lru.has("a"), false);
});

Deno.test("Lru.delete() and clear() report removals and reset counters", () => {
  const reasons: EvictReason[] = [];
  const lru = new Lru<string, number>({ onEvict: (_k, _v, r) => reasons.push(r) });
  lru.set("a", 1, 5);
  lru.set("b", 2, 5);
  assert.equal(lru.delete("a"), true);
  assert.equal(lru.delete("a"), false);
  lru.clear();
  assert.equal(lru.size, 0);
  assert.equal(lru.bytes, 0);
  assert.deepEqual(reasons, ["deleted", "cleared"]);
  lru.set("c", 3);
  assert.deepEqual([...lru], [["c", 3]]);
});

Deno.test("Lru constructor rejects invalid bounds", () => {
  assert.throws(() => new Lru({ maxEntries: 0 }), RangeError);
  assert.throws(() => new Lru({ maxEntries: 1.5 }), RangeError);
  assert.throws(() => new Lru({ maxBytes: 0 }), RangeError);
  assert.throws(() => new Lru().set("a", 1, -1), RangeError);
});
