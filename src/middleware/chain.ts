import type { Context, MiddlewareHandler } from "hono";
import type { AppEnv } from "../app_env.ts";

/** The rest of the request path after the entry level: runs it and leaves its answer in `c.res`. */
export type Downstream = (c: Context<AppEnv>) => Promise<void>;

/**
 * Runs middleware `levels` in order the way Hono's `compose` does — each gets a `next` that runs the rest, a
 * Response a level returns becomes `c.res`, an error a level throws becomes `onError`'s response at that level
 * — for the levels behind src/app.ts's entry handler. Hono composes only when a route has more than one
 * handler, and that costs ≈ 2.5 µs a request over a lone handler (bench/README.md, "Pipeline diet, third
 * step"); so the app registers one handler and the levels run here. The last level is the terminal one: its
 * `next` does nothing.
 */
export function chain(
  levels: readonly MiddlewareHandler<AppEnv>[],
  onError: (error: unknown, c: Context<AppEnv>) => Response,
): Downstream {
  if (levels.length === 0) throw new RangeError("chain needs at least the terminal level");
  const last = levels.length - 1;
  const nothing = () => Promise.resolve();
  const run = async (c: Context<AppEnv>, i: number): Promise<void> => {
    let res: Response | void;
    let failed = false;
    try {
      res = await levels[i]!(c, i === last ? nothing : () => run(c, i + 1));
    } catch (error) {
      res = onError(error, c);
      failed = true;
    }
    if (res !== undefined && (!c.finalized || failed)) c.res = res;
  };
  return (c) => run(c, 0);
}
