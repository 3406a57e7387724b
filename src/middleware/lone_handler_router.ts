import type { Result, Router } from "hono/router";

/**
 * The router of the proxy's Hono app (src/app.ts): that app registers exactly one handler, for every method and
 * path, and routes by host, path and method in its own trie (route_match.ts). So `match` returns that handler
 * without looking at the path, and the app's `getPath` ({@linkcode anyPath}) does not parse one. Behind Hono's
 * default router the same app takes 220 ns a dispatch in `deno bench`, against 72 ns here
 * (bench/dispatch_bench.ts; bench/README.md, "Pipeline diet, fifth step"). A second registration is a
 * programming error and throws.
 */
export class LoneHandlerRouter<T> implements Router<T> {
  name = "LoneHandlerRouter";
  #result: Result<T> | undefined;

  add(_method: string, _path: string, handler: T): void {
    if (this.#result !== undefined) throw new Error("LoneHandlerRouter takes one handler");
    // One result for every request; its (empty) params object is frozen, so no request can leave params in it.
    this.#result = [[[handler, Object.freeze({})]]];
  }

  match(): Result<T> {
    return this.#result ?? [[]];
  }
}

/** `getPath` for an app behind {@linkcode LoneHandlerRouter}: the path it would match is never read. */
export const anyPath = (): string => "/";
