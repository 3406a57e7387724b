/**
 * proxy — composition root: flags → config → runtime → listener; signals drain and stop.
 * `deno run --allow-net main.ts` serves the embedded config.yaml; `--config FILE` reads a file.
 */
import embeddedConfig from "./config.yaml" with { type: "text" };
import denoJson from "./deno.json" with { type: "json" };
import { createApp } from "./src/app.ts";
import { parseArgs, USAGE, UsageError } from "./src/cli.ts";
import { ConfigError } from "./src/config/config_reader.ts";
import { loadConfigFile, parseConfig } from "./src/config/load_config.ts";
import type { Config } from "./src/config/types.ts";
import { startLifecycle } from "./src/lifecycle/lifecycle.ts";
import { Runtime } from "./src/runtime.ts";

const EMBEDDED = "<embedded config.yaml>";

async function readConfig(file: string | undefined): Promise<Config> {
  return file === undefined ? parseConfig(embeddedConfig, EMBEDDED) : await loadConfigFile(file);
}

export async function main(args: readonly string[]): Promise<number> {
  let options;
  try {
    options = parseArgs(args);
  } catch (error) {
    if (error instanceof UsageError) {
      console.error(`proxy: ${error.message}\n\n${USAGE}`);
      return 2;
    }
    throw error;
  }
  if (options.help) {
    console.log(USAGE);
    return 0;
  }
  if (options.version) {
    console.log(`proxy ${denoJson.version} (deno ${Deno.version.deno})`);
    return 0;
  }

  let config: Config;
  try {
    config = await readConfig(options.config);
  } catch (error) {
    if (error instanceof ConfigError) {
      console.error(error.message);
      return 2;
    }
    throw error;
  }
  if (options.validate) {
    console.log(`${config.source}: valid`);
    return 0;
  }

  const source = { current: new Runtime(config).start() };
  const app = createApp(source);
  const { host, port } = config.server;
  const server = Deno.serve({
    hostname: host,
    port,
    onListen: ({ hostname, port }) =>
      console.error(`proxy listening on http://${hostname}:${port} (${config.source})`),
    onError: (error) => {
      console.error("proxy: unhandled error while serving", error);
      return new Response("500 internal proxy error\n", { status: 500 });
    },
  }, app.fetch);

  // SIGHUP / --watch-config → reload; SIGTERM / SIGINT → drain, dispose, exit 0 (see src/lifecycle/).
  const { shutdown } = startLifecycle(source, [server], {
    load: () => readConfig(options.config),
    watchFile: options.watchConfig ? options.config : undefined,
  });
  return await shutdown.done;
}

if (import.meta.main) Deno.exit(await main(Deno.args));
