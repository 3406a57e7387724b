import type { RequestState } from "./request_state.ts";

/**
 * The proxy app's Hono environment. `c.env` is the request's {@linkcode RequestState}: src/app.ts passes a
 * fresh one as the second argument of `app.fetch`, where Hono would otherwise put Deno.serve's info (that
 * is kept as `c.env.info`). No Hono variables: `c.set`/`c.get` are not used on the request path.
 */
export interface AppEnv {
  Bindings: RequestState;
}
