/** Command-line flags. Accepts `--flag value`, `--flag=value`, and the seed's single-dash `-config FILE`. */
export interface CliOptions {
  readonly config: string | undefined;
  readonly validate: boolean;
  /** Reload when the config file changes (needs --config and --allow-read). */
  readonly watchConfig: boolean;
  readonly help: boolean;
  readonly version: boolean;
  /** `--workers N|auto`: overrides `server.workers`; undefined when not given. */
  readonly workers: number | "auto" | undefined;
}

/** Most worker isolates `--workers` accepts (the same bound as `server.workers`). */
const MAX_WORKERS = 256;

export class UsageError extends Error {
  override name = "UsageError";
}

export const USAGE =
  `Usage: proxy [--config FILE] [--watch-config] [--workers N|auto] [--validate] [--help] [--version]

  --config FILE, -config FILE   read the configuration from FILE (needs --allow-read);
                                without it the config.yaml embedded at build time is used
  --watch-config                reload when FILE changes (as on SIGHUP)
  --workers N|auto              serve with N worker isolates on one port (overrides server.workers;
                                auto = one per CPU core; 1 = no workers)
  --validate                    check the configuration and exit: 0 when valid, 2 when not
  --version                     print the version and exit
  --help                        print this help and exit

Signals: SIGHUP reloads the configuration (an invalid one is reported and ignored);
SIGTERM/SIGINT stop accepting, drain in-flight requests (server.shutdown_timeout) and exit 0;
a second SIGTERM/SIGINT exits at once.`;

export function parseArgs(args: readonly string[]): CliOptions {
  let config: string | undefined;
  let workers: number | "auto" | undefined;
  let validate = false, watchConfig = false, help = false, version = false;
  for (let i = 0; i < args.length; i++) {
    const arg = args[i]!;
    const [flag, inline] = arg.startsWith("--") && arg.includes("=")
      ? [arg.slice(0, arg.indexOf("=")), arg.slice(arg.indexOf("=") + 1)]
      : [arg, undefined];
    switch (flag) {
      case "--config":
      case "-config":
      case "-c": {
        const value = inline ?? args[++i];
        if (value === undefined || value === "") throw new UsageError(`${flag} needs a file name`);
        config = value;
        break;
      }
      case "--workers": {
        const value = inline ?? args[++i];
        workers = parseWorkers(value);
        break;
      }
      case "--validate":
        validate = true;
        break;
      case "--watch-config":
        watchConfig = true;
        break;
      case "--help":
      case "-h":
        help = true;
        break;
      case "--version":
      case "-V":
        version = true;
        break;
      default:
        throw new UsageError(`unknown argument: ${arg}`);
    }
  }
  if (watchConfig && config === undefined) throw new UsageError("--watch-config needs --config FILE");
  return { config, validate, watchConfig, help, version, workers };
}

function parseWorkers(value: string | undefined): number | "auto" {
  if (value === "auto") return "auto";
  const count = value !== undefined && /^[0-9]+$/.test(value) ? Number(value) : NaN;
  if (!(count >= 1 && count <= MAX_WORKERS)) {
    throw new UsageError(
      `--workers needs a number from 1 to ${MAX_WORKERS} or "auto", got ${value ?? "nothing"}`,
    );
  }
  return count;
}
