import type { InFlightCounter } from "../upstream/upstream.ts";

/** Upstream columns per table; a reload that needs more starts a new table for the new upstreams. */
const COLUMNS = 1024;

/**
 * In-flight requests per upstream across worker isolates: an Int32 matrix in a `SharedArrayBuffer`, one
 * row per worker, one column per upstream (keyed `pool\nupstream id`). A worker writes only its own row
 * (`Atomics.add`/`Atomics.sub`), so writers never contend; a read sums the column over every row. When a
 * worker dies the control plane zeroes its row, so the requests it never finished do not count forever.
 */
export interface InFlightTables {
  readonly buffers: readonly SharedArrayBuffer[];
  readonly rows: number;
  readonly columns: number;
  /** `pool\nupstream id` → [table index, column]. */
  readonly slots: ReadonlyMap<string, readonly [number, number]>;
}

/** Control plane side: hands out columns; an upstream keeps its column across reloads. */
export class InFlightAllocator {
  readonly #rows: number;
  readonly #buffers: SharedArrayBuffer[] = [];
  readonly #slots = new Map<string, readonly [number, number]>();
  #next = COLUMNS; // the first key allocates the first table

  constructor(rows: number) {
    if (!Number.isInteger(rows) || rows < 1) throw new RangeError(`rows must be an integer ≥ 1, got ${rows}`);
    this.#rows = rows;
  }

  /** Tables with a column for every key in `keys` (keys already known keep theirs). */
  assign(keys: Iterable<string>): InFlightTables {
    for (const key of keys) {
      if (this.#slots.has(key)) continue;
      if (this.#next === COLUMNS) {
        this.#buffers.push(new SharedArrayBuffer(this.#rows * COLUMNS * 4));
        this.#next = 0;
      }
      this.#slots.set(key, [this.#buffers.length - 1, this.#next++]);
    }
    return { buffers: this.#buffers, rows: this.#rows, columns: COLUMNS, slots: new Map(this.#slots) };
  }

  /** Forgets a dead worker's requests (1-based worker id). */
  clearRow(workerId: number): void {
    for (const buffer of this.#buffers) {
      new Int32Array(buffer, (workerId - 1) * COLUMNS * 4, COLUMNS).fill(0);
    }
  }

  /** Sum over every worker, by key (for tests and the control plane's view). */
  count(key: string): number {
    const slot = this.#slots.get(key);
    if (slot === undefined) return 0;
    const view = new Int32Array(this.#buffers[slot[0]]!);
    let sum = 0;
    for (let row = 0; row < this.#rows; row++) sum += Atomics.load(view, row * COLUMNS + slot[1]);
    return sum;
  }
}

/** Worker side: one upstream's cell in the matrix. */
export class SharedInFlightCell implements InFlightCounter {
  readonly #view: Int32Array;
  readonly #own: number;
  readonly #column: number;
  readonly #rows: number;
  readonly #columns: number;

  constructor(view: Int32Array, workerId: number, column: number, tables: InFlightTables) {
    this.#view = view;
    this.#columns = tables.columns;
    this.#rows = tables.rows;
    this.#column = column;
    this.#own = (workerId - 1) * tables.columns + column;
  }

  acquire(): void {
    Atomics.add(this.#view, this.#own, 1);
  }

  release(): void {
    // Only this worker writes its row (the control plane zeroes it when the worker is gone).
    if (Atomics.load(this.#view, this.#own) > 0) Atomics.sub(this.#view, this.#own, 1);
  }

  get count(): number {
    let sum = 0;
    for (let row = 0; row < this.#rows; row++) {
      sum += Atomics.load(this.#view, row * this.#columns + this.#column);
    }
    return sum;
  }
}
