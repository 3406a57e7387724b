/**
 * Operational events: one JSON object per line on stderr (`{"time":…,"event":…,…fields}`), the one log
 * style for health and breaker changes, panic, reloads, the rate limiter's Redis state, admin and serving
 * errors. The access log is separate (stdout, its own formats).
 */

/** Where operational events go. */
export type EventLog = (event: string, fields: Readonly<Record<string, unknown>>) => void;

/** The default sink: one JSON line on stderr. */
export const stderrEventLog: EventLog = (event, fields) =>
  console.error(JSON.stringify({ time: new Date().toISOString(), event, ...fields }));

/** An error as a short reason for a log field: its message (and a cause's message), never a stack. */
export function errorReason(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  const cause = error.cause instanceof Error && error.cause.message !== error.message
    ? `: ${error.cause.message}`
    : "";
  return `${error.message}${cause}`;
}
