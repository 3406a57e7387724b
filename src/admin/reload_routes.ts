import { Hono } from "hono";
import type { ReloadResult } from "../lifecycle/reloader.ts";

/** What the routes need from the reloader. */
export interface ReloadTrigger {
  reload(): Promise<ReloadResult>;
}

/**
 * `POST /reload` for the admin listener: reloads the config file and answers with the outcome as JSON —
 * 200 `{ ok: true, source, changed, restartRequired }`, or 400 `{ ok: false, source, error }` where `error`
 * lists every problem as `file:line:col key.path: message` (the old config keeps serving). Other methods → 405.
 * Mount it on the admin app: `admin.route("/", reloadRoutes(reloader))`.
 */
export function reloadRoutes(reloader: ReloadTrigger): Hono {
  const app = new Hono();
  app.post("/reload", async function reload(c) {
    const result = await reloader.reload();
    return c.json(result, result.ok ? 200 : 400);
  });
  app.all("/reload", function reloadMethodNotAllowed(c) {
    return c.text("405 use POST /reload\n", 405, { allow: "POST" });
  });
  return app;
}
