/** The generated request id: UUID-shaped, never repeated within an isolate, different across processes. */
import assert from "node:assert/strict";
import { nextRequestId } from "../../src/middleware/request_context.ts";

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

Deno.test("nextRequestId() gives UUID-shaped ids that do not repeat", () => {
  const ids = Array.from({ length: 10_000 }, () => nextRequestId());
  for (const id of ids) assert.match(id, UUID);
  assert.equal(new Set(ids).size, ids.length);
});

Deno.test("two processes (or a restart) draw different id prefixes", async () => {
  const draw = async () => {
    const { stdout, success } = await new Deno.Command(Deno.execPath(), {
      args: [
        "eval",
        `import { nextRequestId } from "${
          new URL("../../src/middleware/request_context.ts", import.meta.url).href
        }"; console.log(nextRequestId());`,
      ],
      stdout: "piped",
      stderr: "inherit",
    }).output();
    assert.ok(success);
    return new TextDecoder().decode(stdout).trim();
  };
  const [a, b] = await Promise.all([draw(), draw()]);
  assert.match(a, UUID);
  assert.match(b, UUID);
  // Both are the first id of their process: same counter, so only the random part can tell them apart.
  assert.equal(a.slice(24), b.slice(24));
  assert.notEqual(a.slice(0, 24), b.slice(0, 24));
});
