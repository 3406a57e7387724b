/** Runs `main.ts` (or a bundled file) as a child Deno process and waits for its listening line. */

const ROOT = new URL("../../", import.meta.url);

export interface ChildProxy extends AsyncDisposable {
  readonly port: number;
  readonly url: string;
  /** The child's process id (for signals beyond `stop`). */
  readonly pid: number;
  /** Waits for the exit code without sending a signal. */
  exited(): Promise<number>;
  /** Everything the child wrote to stderr so far. */
  readonly stderr: () => string;
  /** Sends a signal and waits for the exit code. */
  stop(signal?: Deno.Signal): Promise<number>;
}

export function rootPath(relative: string): string {
  return new URL(relative, ROOT).pathname;
}

/** `args` follow `deno`, e.g. `["run", "--allow-net", "main.ts", "--config", file]`. */
export async function startChildProxy(
  args: readonly string[],
  timeoutMs = 20_000,
  env?: Record<string, string>,
): Promise<ChildProxy> {
  const child = new Deno.Command(Deno.execPath(), {
    args: [...args],
    ...(env ? { env } : {}),
    cwd: rootPath("."),
    stdout: "null",
    stderr: "piped",
    stdin: "null",
  }).spawn();
  let text = "";
  const reader = child.stderr.pipeThrough(new TextDecoderStream()).getReader();
  const pump = (async () => {
    while (true) {
      const { value, done } = await reader.read();
      if (done) return;
      text += value;
    }
  })();
  const deadline = Date.now() + timeoutMs;
  let port = 0;
  while (port === 0) {
    const match = /listening on http:\/\/[^\s]*:(\d+)/.exec(text);
    if (match) port = Number(match[1]);
    else if (Date.now() > deadline) {
      child.kill("SIGKILL");
      await child.status;
      await pump;
      throw new Error(`proxy did not start within ${timeoutMs} ms:\n${text}`);
    } else await new Promise((resolve) => setTimeout(resolve, 25));
  }
  let exited: Promise<number> | undefined;
  const stop = (signal: Deno.Signal = "SIGTERM") => {
    if (!exited) {
      try {
        child.kill(signal);
      } catch { /* already gone */ }
      exited = child.status.then(async (status) => {
        await pump;
        return status.code;
      });
    }
    return exited;
  };
  return {
    port,
    url: `http://127.0.0.1:${port}`,
    pid: child.pid,
    async exited() {
      const status = await child.status;
      await pump;
      return status.code;
    },
    stderr: () => text,
    stop,
    async [Symbol.asyncDispose]() {
      await stop("SIGKILL");
    },
  };
}

/** Runs `deno <args>` to completion and returns exit code and output. */
export async function runDeno(
  args: readonly string[],
): Promise<{ code: number; stdout: string; stderr: string }> {
  const output = await new Deno.Command(Deno.execPath(), {
    args: [...args],
    cwd: rootPath("."),
    stdout: "piped",
    stderr: "piped",
    stdin: "null",
  }).output();
  const decoder = new TextDecoder();
  return { code: output.code, stdout: decoder.decode(output.stdout), stderr: decoder.decode(output.stderr) };
}
