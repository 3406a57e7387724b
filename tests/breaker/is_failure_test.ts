import assert from "node:assert/strict";
import { isFailure, type UpstreamOutcome } from "../../src/breaker/is_failure.ts";

Deno.test("isFailure() counts transport errors and server errors, not 4xx, 501 or 505", () => {
  const table: [UpstreamOutcome, boolean][] = [
    [{ kind: "response", status: 200 }, false],
    [{ kind: "response", status: 304 }, false],
    [{ kind: "response", status: 404 }, false],
    [{ kind: "response", status: 429 }, false],
    [{ kind: "response", status: 500 }, true],
    [{ kind: "response", status: 501 }, false],
    [{ kind: "response", status: 502 }, true],
    [{ kind: "response", status: 503 }, true],
    [{ kind: "response", status: 504 }, true],
    [{ kind: "response", status: 505 }, false],
    [{ kind: "error", reason: "timeout" }, true],
    [{ kind: "error", reason: "refused" }, true],
    [{ kind: "error", reason: "reset" }, true],
  ];
  for (const [outcome, expected] of table) {
    assert.equal(isFailure(outcome), expected, JSON.stringify(outcome));
  }
});
