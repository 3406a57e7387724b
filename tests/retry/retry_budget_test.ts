import assert from "node:assert/strict";
import { RetryBudget } from "../../src/retry/retry_budget.ts";

function drain(budget: RetryBudget): number {
  let granted = 0;
  while (budget.tryRetry()) granted++;
  return granted;
}

Deno.test("RetryBudget allows the minimum number of retries without traffic", () => {
  const budget = new RetryBudget({ minRetries: 3, now: () => 0 });
  assert.equal(drain(budget), 3);
  assert.equal(budget.remaining, 0);
});

Deno.test("RetryBudget allows retries up to the ratio of recent requests", () => {
  const budget = new RetryBudget({ ratio: 0.2, minRetries: 2, now: () => 0 });
  for (let i = 0; i < 100; i++) budget.recordRequest();
  assert.equal(drain(budget), 20);
  for (let i = 0; i < 5; i++) budget.recordRequest();
  assert.equal(drain(budget), 1, "105 requests allow 21 retries, 20 already taken");
});

Deno.test("RetryBudget refills as old retries leave the window", () => {
  const clock = { now: 0 };
  const budget = new RetryBudget({ ratio: 0, minRetries: 2, windowMs: 1_000, now: () => clock.now });
  assert.equal(drain(budget), 2);
  clock.now += 500;
  assert.equal(budget.tryRetry(), false);
  clock.now += 600;
  assert.equal(drain(budget), 2);
});

Deno.test("RetryBudget rejects invalid options", () => {
  assert.throws(() => new RetryBudget({ ratio: 2 }), RangeError);
  assert.throws(() => new RetryBudget({ minRetries: -1 }), RangeError);
  assert.throws(() => new RetryBudget({ windowMs: 0 }), RangeError);
});
