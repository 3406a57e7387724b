/**
 * HTTP-date (RFC 9110 §5.6.7), parsed by the grammar rather than `Date.parse` (which accepts `UTC`, missing
 * commas, doubled spaces, one-digit hours and more):
 *
 *   IMF-fixdate  = day-name "," SP 2DIGIT SP month SP 4DIGIT SP time-of-day SP "GMT"
 *   rfc850-date  = day-name-l "," SP 2DIGIT "-" month "-" 2DIGIT SP time-of-day SP "GMT"
 *   asctime-date = day-name SP month SP ( 2DIGIT / ( SP DIGIT ) ) SP time-of-day SP 4DIGIT
 *   time-of-day  = 2DIGIT ":" 2DIGIT ":" 2DIGIT   (hour 00–23, minute 00–59, second 00–60)
 *
 * HTTP-date is case-sensitive. Surrounding whitespace (OWS around a field value) is allowed. A day-of-month
 * the month does not have is invalid; the day name is not checked against the date (the grammar does not
 * tie them). A leap second (60) is read as 59.
 */

const DAY_NAMES = "(Mon|Tue|Wed|Thu|Fri|Sat|Sun)";
const DAY_NAMES_LONG = "(Monday|Tuesday|Wednesday|Thursday|Friday|Saturday|Sunday)";
const MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];
const MONTH = `(${MONTHS.join("|")})`;
const TIME = "(\\d{2}):(\\d{2}):(\\d{2})";

const IMF_FIXDATE = new RegExp(`^${DAY_NAMES}, (\\d{2}) ${MONTH} (\\d{4}) ${TIME} GMT$`);
const RFC850 = new RegExp(`^${DAY_NAMES_LONG}, (\\d{2})-${MONTH}-(\\d{2}) ${TIME} GMT$`);
const ASCTIME = new RegExp(`^${DAY_NAMES} ${MONTH} (\\d{2}| \\d) ${TIME} (\\d{4})$`);

/** Epoch milliseconds of a valid HTTP-date, or undefined. `now` only resolves rfc850's two-digit year. */
export function parseHttpDate(value: string | undefined, now: number = Date.now()): number | undefined {
  if (value === undefined) return undefined;
  const text = value.trim();
  let m = IMF_FIXDATE.exec(text);
  if (m !== null) return build(Number(m[4]), m[3]!, m[2]!, m[5]!, m[6]!, m[7]!);
  m = ASCTIME.exec(text);
  if (m !== null) return build(Number(m[7]), m[2]!, m[3]!.trim(), m[4]!, m[5]!, m[6]!);
  m = RFC850.exec(text);
  if (m !== null) return build(fullYear(Number(m[4]), now), m[3]!, m[2]!, m[5]!, m[6]!, m[7]!);
  return undefined;
}

/**
 * RFC 9110 §5.6.7: a two-digit year that appears to be more than 50 years in the future is the most recent
 * year in the past with the same last two digits.
 */
function fullYear(twoDigits: number, now: number): number {
  const current = new Date(now).getUTCFullYear();
  let year = current - (current % 100) + twoDigits;
  if (year > current + 50) year -= 100;
  return year;
}

function build(
  year: number,
  month: string,
  day: string,
  h: string,
  m: string,
  s: string,
): number | undefined {
  const monthIndex = MONTHS.indexOf(month);
  const dayOfMonth = Number(day);
  const hour = Number(h);
  const minute = Number(m);
  const second = Number(s);
  if (hour > 23 || minute > 59 || second > 60 || dayOfMonth < 1) return undefined;
  const ms = Date.UTC(year, monthIndex, dayOfMonth, hour, minute, Math.min(second, 59));
  // Date.UTC rolls 31 Apr over to 1 May: a day the month does not have is not a date.
  if (new Date(ms).getUTCDate() !== dayOfMonth) return undefined;
  // Date.UTC maps years 0–99 to 1900–1999.
  return year < 100 ? undefined : ms;
}

/** Formats epoch milliseconds as an IMF-fixdate. */
export function formatHttpDate(ms: number): string {
  return new Date(ms).toUTCString();
}
