/**
 * The module each data-plane `Worker` runs (see src/workers/control_plane.ts). Kept apart from the logic
 * (worker_main.ts) so that importing the logic starts nothing.
 */
import { runWorker, type WorkerScope } from "./worker_main.ts";

runWorker(globalThis as unknown as WorkerScope);
