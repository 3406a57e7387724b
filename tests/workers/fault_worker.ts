/**
 * Test worker entry: the real worker (runWorker) behind a scope that injects faults — worker 2 refuses every
 * config after its first, and an admin request for `/__crash` throws an uncaught error in the worker.
 */
import type { FromWorker, ToWorker } from "../../src/workers/messages.ts";
import { runWorker, type WorkerScope } from "../../src/workers/worker_main.ts";

const global = globalThis as unknown as WorkerScope;
let workerId = 0;
const scope: WorkerScope = {
  postMessage: (message: FromWorker, transfer?: Transferable[]) => global.postMessage(message, transfer),
  addEventListener(type, listener) {
    global.addEventListener(type, (event: MessageEvent<ToWorker>) => {
      const message = event.data;
      if (message.type === "start") workerId = message.workerId;
      if (message.type === "config" && workerId === 2) {
        global.postMessage({ type: "applied", seq: message.seq, ok: false, error: "injected failure" });
        return;
      }
      if (message.type === "admin" && message.path === "/__crash") {
        setTimeout(() => {
          throw new Error(`injected crash in worker ${workerId}`);
        });
        return;
      }
      listener(event);
    });
  },
};
runWorker(scope);
