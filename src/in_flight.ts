/**
 * Counts requests that started on one Runtime and have not yet returned their response, so a reload disposes
 * the replaced runtime only once they are done (bodies still streaming are counted by each pool's Forwarder).
 * Two integer updates per request: no allocation on the hot path.
 */
export class InFlight {
  #count = 0;

  get count(): number {
    return this.#count;
  }

  enter(): void {
    this.#count++;
  }

  leave(): void {
    this.#count--;
  }
}
