import assert from "node:assert/strict";
import { Hono } from "hono";
import { anyPath, LoneHandlerRouter } from "../../src/middleware/lone_handler_router.ts";

Deno.test("LoneHandlerRouter: every method and path reaches the one handler; HEAD keeps Hono's GET dispatch", async () => {
  const app = new Hono({ router: new LoneHandlerRouter(), getPath: anyPath });
  app.all("*", (c) => c.text(`${c.req.method} ${new URL(c.req.url).pathname}`, 201));
  const cases: Array<[string, string]> = [["GET", "/"], ["POST", "/a/b"], ["DELETE", "/x%2F"], ["PUT", "/*"]];
  for (const [method, path] of cases) {
    const response = await app.fetch(new Request(`http://h.test${path}`, { method }));
    assert.equal(response.status, 201);
    assert.equal(await response.text(), `${method} ${path}`);
  }
  // The path Hono would have parsed is never read: c.req.path is "/" for every request.
  const paths = new Hono({ router: new LoneHandlerRouter(), getPath: anyPath });
  paths.all("*", (c) => c.text(c.req.path));
  assert.equal(await (await paths.fetch(new Request("http://h.test/a/b"))).text(), "/");
  const head = await app.fetch(new Request("http://h.test/h", { method: "HEAD" }));
  assert.equal(head.status, 201);
  assert.equal(await head.text(), "");
});

Deno.test("LoneHandlerRouter refuses a second handler, and matches nothing before the first", () => {
  const router = new LoneHandlerRouter<string>();
  assert.deepEqual(router.match(), [[]]);
  router.add("ALL", "/*", "handler");
  assert.deepEqual(router.match(), [[["handler", {}]]]);
  assert.equal(Object.isFrozen(router.match()[0][0]![1]), true); // the params, shared by every request
  assert.equal(router.match(), router.match());
  assert.throws(() => router.add("GET", "/other", "second"), /one handler/);
});
