import { dirname, resolve } from "node:path";

export interface ConfigWatcherOptions {
  /** Quiet time after the last change before `onChange` runs, ms (editors write in several steps). Default 200. */
  debounceMs?: number;
}

/**
 * `--watch-config`: calls `onChange` after the config file changes. Watches the file's directory, not the file,
 * because editors and `kubectl`-style updates replace the file by renaming a new one over it (a watch on the
 * old inode would go silent). Bursts of events are debounced into one call. Needs --allow-read.
 */
export class ConfigWatcher implements AsyncDisposable {
  readonly #file: string;
  readonly #onChange: () => void;
  readonly #debounceMs: number;
  #watcher: Deno.FsWatcher | undefined;
  #loop: Promise<void> | undefined;
  #timer: ReturnType<typeof setTimeout> | undefined;

  constructor(file: string, onChange: () => void, options: ConfigWatcherOptions = {}) {
    const { debounceMs = 200 } = options;
    if (!(debounceMs >= 0)) throw new RangeError(`ConfigWatcher debounceMs must be ≥ 0, got ${debounceMs}`);
    this.#file = resolve(file);
    this.#onChange = onChange;
    this.#debounceMs = debounceMs;
  }

  start(): this {
    if (this.#watcher) return this;
    const watcher = Deno.watchFs(dirname(this.#file), { recursive: false });
    this.#watcher = watcher;
    this.#loop = (async () => {
      for await (const event of watcher) {
        if (event.kind === "access") continue;
        if (event.paths.some((path) => path === this.#file)) this.#schedule();
      }
    })();
    return this;
  }

  #schedule(): void {
    clearTimeout(this.#timer);
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      this.#onChange();
    }, this.#debounceMs);
  }

  async [Symbol.asyncDispose](): Promise<void> {
    clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#watcher?.close();
    this.#watcher = undefined;
    await this.#loop;
  }
}
