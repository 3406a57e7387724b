/** The forwarder's coarse timer list: expiry, watches, untrack in any order, and the interval's lifetime. */
import assert from "node:assert/strict";
import { DeadlineSweeper, type SweepEntry } from "../../src/proxy/deadline_sweeper.ts";

function entry(name: string, deadline: number, log: string[], watchAt = Infinity): SweepEntry {
  return {
    deadline,
    expire: () => log.push(`expire ${name}`),
    slot: -1,
    watchAt,
    watch: () => log.push(`watch ${name}`),
  };
}

Deno.test("due entries expire once, watches run once, untracked entries never fire", () => {
  let now = 0;
  using sweeper = new DeadlineSweeper({ now: () => now });
  const log: string[] = [];
  const entries = Array.from({ length: 6 }, (_, i) => entry(`e${i}`, 100 + i * 10, log, 50));
  for (const e of entries) sweeper.track(e);
  assert.equal(sweeper.size, 6);
  // Untrack from the middle, the end and the start: every remaining entry must still be swept.
  sweeper.untrack(entries[2]!);
  sweeper.untrack(entries[5]!);
  sweeper.untrack(entries[0]!);
  sweeper.untrack(entries[0]!); // twice: no effect
  assert.equal(sweeper.size, 3);
  now = 60;
  sweeper.sweep();
  assert.deepEqual(log.sort(), ["watch e1", "watch e3", "watch e4"]);
  log.length = 0;
  now = 135;
  sweeper.sweep();
  assert.deepEqual(log.sort(), ["expire e1", "expire e3"]);
  assert.equal(sweeper.size, 1);
  log.length = 0;
  sweeper.sweep();
  assert.deepEqual(log, []); // expired entries are gone
  now = 1000;
  sweeper.sweep();
  assert.deepEqual(log, ["expire e4"]);
  assert.equal(sweeper.size, 0);
});

Deno.test("an entry tracked again after an untrack fires at its new deadline; tracking twice adds it once", () => {
  let now = 0;
  using sweeper = new DeadlineSweeper({ now: () => now });
  const log: string[] = [];
  const e = entry("e", 10, log);
  sweeper.track(e);
  sweeper.track(e);
  assert.equal(sweeper.size, 1);
  sweeper.untrack(e);
  e.deadline = 50;
  sweeper.track(e);
  now = 20;
  sweeper.sweep();
  assert.deepEqual(log, []);
  now = 50;
  sweeper.sweep();
  assert.deepEqual(log, ["expire e"]);
});

Deno.test("an expiry that untracks another entry and tracks a new one skips nothing", () => {
  let now = 0;
  using sweeper = new DeadlineSweeper({ now: () => now });
  const log: string[] = [];
  const a = entry("a", 10, log);
  const b = entry("b", 10, log);
  const c = entry("c", 10, log);
  const late = entry("late", 100, log);
  a.expire = () => {
    log.push("expire a");
    sweeper.untrack(b);
    sweeper.track(late);
  };
  for (const e of [b, c, a]) sweeper.track(e);
  now = 10;
  sweeper.sweep();
  assert.deepEqual(log.sort(), ["expire a", "expire c"]);
  assert.equal(sweeper.size, 1);
});

Deno.test("the interval runs deadlines on its own and stops once nothing is tracked", async () => {
  using sweeper = new DeadlineSweeper({ tickMs: 5 });
  const { promise, resolve } = Promise.withResolvers<void>();
  sweeper.track({
    deadline: performance.now() + 10,
    expire: resolve,
    slot: -1,
    watchAt: Infinity,
    watch: undefined,
  });
  assert.equal(sweeper.ticking, true);
  await promise;
  assert.equal(sweeper.size, 0);
  // The next tick finds the list empty and clears the interval.
  await new Promise((r) => setTimeout(r, 20));
  assert.equal(sweeper.ticking, false);
});
