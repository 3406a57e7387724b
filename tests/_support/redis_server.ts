/**
 * A real `redis-server` on 127.0.0.1 for tests: a free port, no persistence, stopped by PID.
 * `stop()` then `start()` brings it back on the same port to test reconnection.
 */
export { freePort } from "./ports.ts";
import { freePort } from "./ports.ts";

const REDIS_SERVER = "/usr/bin/redis-server";

async function answersPing(port: number): Promise<boolean> {
  try {
    const conn = await Deno.connect({ hostname: "127.0.0.1", port });
    try {
      await conn.write(new TextEncoder().encode("PING\r\n"));
      const buf = new Uint8Array(16);
      const n = await conn.read(buf);
      return n !== null && new TextDecoder().decode(buf.subarray(0, n)).startsWith("+PONG");
    } finally {
      conn.close();
    }
  } catch {
    return false;
  }
}

export class RedisServer implements AsyncDisposable {
  readonly port: number;
  #child: Deno.ChildProcess | undefined;

  private constructor(port: number) {
    this.port = port;
  }

  /** Starts a server on a free port and waits until it answers PING. */
  static async start(): Promise<RedisServer> {
    const server = new RedisServer(freePort());
    await server.start();
    return server;
  }

  get url(): string {
    return `redis://127.0.0.1:${this.port}`;
  }

  get running(): boolean {
    return this.#child !== undefined;
  }

  /** (Re)starts the server on its port. */
  async start(): Promise<void> {
    if (this.#child) return;
    const args = ["--port", String(this.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"];
    this.#child = new Deno.Command(REDIS_SERVER, { args, stdout: "null", stderr: "null", stdin: "null" })
      .spawn();
    for (let attempt = 0; attempt < 200; attempt++) {
      if (await answersPing(this.port)) return;
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    await this.stop();
    throw new Error(`redis-server did not answer PING on 127.0.0.1:${this.port}`);
  }

  /** Kills the server process and waits for it to exit. */
  async stop(): Promise<void> {
    const child = this.#child;
    if (!child) return;
    this.#child = undefined;
    try {
      child.kill("SIGKILL");
    } catch {
      // already exited
    }
    await child.status;
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.stop();
  }
}
