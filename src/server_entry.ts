/**
 * Entry point for `deno serve`, which can run one isolate per CPU core sharing the listening port:
 *
 *   deno serve --parallel --allow-net --allow-read --port 8080 src/server_entry.ts --config config.yaml
 *
 * `deno serve` owns the listener (its --host/--port flags apply; `server.host`/`server.port` do not), so this
 * module only builds the app. Like main.ts it is a composition root: each isolate evaluates it once and starts
 * its own health checks here, because `onListen` runs in the first worker only. Without `--config` the
 * config.yaml embedded at build time is used. State is per isolate (see README, "Multi-core").
 */
import embeddedConfig from "../config.yaml" with { type: "text" };
import { createApp } from "./app.ts";
import { parseArgs } from "./cli.ts";
import { loadConfigFile, parseConfig } from "./config/load_config.ts";
import { Runtime } from "./runtime.ts";

const options = parseArgs(Deno.args);
const config = options.config === undefined
  ? parseConfig(embeddedConfig, "<embedded config.yaml>")
  : await loadConfigFile(options.config);
const source = { current: new Runtime(config).start() };
const app = createApp(source);

export default {
  fetch: app.fetch,
  onListen(addr) {
    const where = addr.transport === "tcp" ? `http://${addr.hostname}:${addr.port}` : addr.transport;
    console.error(`proxy listening on ${where} (${config.source}, deno serve)`);
  },
} satisfies Deno.ServeDefaultExport;
