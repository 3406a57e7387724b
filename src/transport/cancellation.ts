/**
 * A request's cancellation on the proxy path: what an `AbortController` and its `AbortSignal` do for one
 * exchange, without an `EventTarget`. An AbortController per request alone measured +0.8 µs of CPU on Deno
 * 2.9.6, before any `abort` listener (bench/README.md, "Pipeline diet, third step"); this is a flag, a reason
 * and a short listener list. A real `AbortSignal` is made only when something asks for one (fetch, `pipeThrough`).
 */
export class Cancellation {
  #aborted = false;
  #reason: unknown = undefined;
  #listeners: Array<() => void> | undefined;
  #controller: AbortController | undefined;

  get aborted(): boolean {
    return this.#aborted;
  }

  /** Why it was cancelled; a DOMException `AbortError` when `abort()` had no reason (as AbortController). */
  get reason(): unknown {
    return this.#reason;
  }

  /** Cancels once: later calls do nothing. Listeners run in the order they were added. */
  abort(reason?: unknown): void {
    if (this.#aborted) return;
    this.#aborted = true;
    this.#reason = reason ?? new DOMException("The signal has been aborted", "AbortError");
    this.#controller?.abort(this.#reason);
    const listeners = this.#listeners;
    this.#listeners = undefined;
    if (listeners !== undefined) { for (const listener of listeners) listener(); }
  }

  /** Runs `listener` on `abort()` (at most once); not called when already cancelled: check `aborted` first. */
  onAbort(listener: () => void): void {
    if (this.#aborted) return;
    (this.#listeners ??= []).push(listener);
  }

  offAbort(listener: () => void): void {
    const listeners = this.#listeners;
    if (listeners === undefined) return;
    const at = listeners.indexOf(listener);
    if (at >= 0) listeners.splice(at, 1);
  }

  /** An `AbortSignal` that follows this cancellation, for APIs that need one (made on first use). */
  get signal(): AbortSignal {
    if (this.#controller === undefined) {
      this.#controller = new AbortController();
      if (this.#aborted) this.#controller.abort(this.#reason);
    }
    return this.#controller.signal;
  }
}
