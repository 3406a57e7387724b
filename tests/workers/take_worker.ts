/** Test helper run as a Worker: takes tokens from a shared table and answers how many were allowed. */
import {
  SharedMemoryRateLimitStore,
  type SharedRateLimitTable,
} from "../../src/ratelimit/store_shared_memory.ts";

const scope = globalThis as unknown as {
  onmessage: (event: MessageEvent<{ table: SharedRateLimitTable; takes: number }>) => void;
  postMessage(message: number): void;
};
scope.onmessage = (event) => {
  const store = new SharedMemoryRateLimitStore(event.data.table, { ratePerSecond: 0.001, burst: 10 });
  let allowed = 0;
  for (let i = 0; i < event.data.takes; i++) if (store.take("global").allowed) allowed++;
  scope.postMessage(allowed);
};
