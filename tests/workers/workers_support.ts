/** Helpers for the worker tests: a `main.ts` child with `server.workers` > 1, its stdout and stderr. */
import { rootPath } from "../_support/child_proxy.ts";

export interface WorkersProxy extends AsyncDisposable {
  readonly port: number;
  readonly url: string;
  readonly pid: number;
  /** Access log lines (stdout) so far, parsed (JSON format). */
  accessLog(): Record<string, unknown>[];
  readonly stderr: () => string;
  /** Log lines for `event` (JSON on stderr). */
  events(event: string): Record<string, unknown>[];
  /** Those the control plane wrote (lines from a worker's runtime carry a `worker` field). */
  controlEvents(event: string): Record<string, unknown>[];
  exited(): Promise<number>;
}

export async function tempConfig(yaml: string): Promise<string> {
  const file = await Deno.makeTempFile({ suffix: ".yaml" });
  await Deno.writeTextFile(file, yaml);
  return file;
}

export async function waitFor(condition: () => boolean, what: string, limitMs = 15_000): Promise<void> {
  const deadline = Date.now() + limitMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

function collect(stream: ReadableStream<Uint8Array>, into: { text: string }): Promise<void> {
  const reader = stream.pipeThrough(new TextDecoderStream()).getReader();
  return (async () => {
    while (true) {
      const { value, done } = await reader.read();
      if (done) return;
      into.text += value;
    }
  })();
}

/** Starts `main.ts --config file ...flags` and waits for the control plane's listening line. */
export async function startWorkersProxy(file: string, ...flags: string[]): Promise<WorkersProxy> {
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "--allow-net", "--allow-read", "main.ts", "--config", file, ...flags],
    cwd: rootPath("."),
    stdout: "piped",
    stderr: "piped",
    stdin: "null",
  }).spawn();
  const out = { text: "" }, err = { text: "" };
  const pumps = Promise.all([collect(child.stdout, out), collect(child.stderr, err)]);
  let port = 0;
  try {
    await waitFor(
      () => {
        const match = /listening on http:\/\/[^\s]*:(\d+) \(.*workers\)/.exec(err.text);
        if (match) port = Number(match[1]);
        return port !== 0;
      },
      "the proxy to listen",
      30_000,
    );
  } catch (error) {
    child.kill("SIGKILL");
    await child.status;
    await pumps;
    throw new Error(`${error}\n${err.text}`);
  }
  let exited: Promise<number> | undefined;
  const exit = () => exited ??= child.status.then(async (status) => (await pumps, status.code));
  const lines = (text: string) =>
    text.split("\n").filter((line) => line.startsWith("{")).map((line) =>
      JSON.parse(line) as Record<string, unknown>
    );
  return {
    port,
    url: `http://127.0.0.1:${port}`,
    pid: child.pid,
    accessLog: () => lines(out.text),
    stderr: () => err.text,
    events: (event) => lines(err.text).filter((e) => e.event === event),
    controlEvents: (event) => lines(err.text).filter((e) => e.event === event && e.worker === undefined),
    exited: exit,
    async [Symbol.asyncDispose]() {
      try {
        child.kill("SIGKILL");
      } catch { /* gone */ }
      await exit();
    },
  };
}

/** One request on a connection of its own (`connection: close`), so the kernel may pick any worker. */
export async function fetchFresh(url: string, init: RequestInit = {}): Promise<Response> {
  const headers = new Headers(init.headers);
  headers.set("connection", "close");
  const client = Deno.createHttpClient({ poolMaxIdlePerHost: 0 });
  try {
    const response = await fetch(url, { ...init, headers, client });
    const body = new Uint8Array(await response.arrayBuffer());
    return new Response(response.status === 204 || response.status === 304 ? null : body, {
      status: response.status,
      headers: response.headers,
    });
  } finally {
    client.close();
  }
}

/** Workers named in access log lines. */
export function workersIn(lines: readonly Record<string, unknown>[]): Set<unknown> {
  return new Set(lines.map((line) => line.worker));
}
