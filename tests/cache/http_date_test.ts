import assert from "node:assert/strict";
import { freshnessLifetimeMs } from "../../src/cache/freshness.ts";
import { formatHttpDate, parseHttpDate } from "../../src/cache/http_date.ts";
import { clientNotModified } from "../../src/cache/revalidation.ts";

// RFC 9110 §5.6.7 examples: the same instant in the three forms.
const NOV_6_1994 = Date.UTC(1994, 10, 6, 8, 49, 37);
const NOW_2026 = Date.UTC(2026, 10, 26, 12, 0, 0);

Deno.test("parseHttpDate() accepts IMF-fixdate and the obsolete rfc850 and asctime forms (RFC 9110 §5.6.7)", () => {
  assert.equal(parseHttpDate("Sun, 06 Nov 1994 08:49:37 GMT"), NOV_6_1994);
  assert.equal(parseHttpDate("Sunday, 06-Nov-94 08:49:37 GMT", NOW_2026), NOV_6_1994);
  assert.equal(parseHttpDate("Sun Nov  6 08:49:37 1994"), NOV_6_1994);
  assert.equal(parseHttpDate("Sun Nov 16 08:49:37 1994"), Date.UTC(1994, 10, 16, 8, 49, 37));
  assert.equal(parseHttpDate("  Sun, 06 Nov 1994 08:49:37 GMT "), NOV_6_1994, "OWS around the value");
  assert.equal(parseHttpDate(formatHttpDate(NOW_2026)), NOW_2026);
});

Deno.test("parseHttpDate(): rfc850's two-digit year more than 50 years ahead is in the past century", () => {
  assert.equal(parseHttpDate("Thursday, 01-Jan-30 00:00:00 GMT", NOW_2026), Date.UTC(2030, 0, 1));
  assert.equal(parseHttpDate("Monday, 01-Jan-80 00:00:00 GMT", NOW_2026), Date.UTC(1980, 0, 1));
});

Deno.test("parseHttpDate() rejects what Date.parse accepts but the grammar does not", () => {
  const invalid = [
    "Sun, 06 Nov 1994 08:49:37 UTC", // UTC instead of GMT
    "Sun 06 Nov 1994 08:49:37 GMT", // missing comma
    "Sun,  06 Nov 1994 08:49:37 GMT", // doubled space
    "Sun, 06 Nov 1994  08:49:37 GMT",
    "Sun, 06-Nov-1994 08:49:37 GMT", // dashes in an IMF-fixdate date part
    "Sun, 06 Nov 1994 8:49:37 GMT", // one-digit hour
    "Sun, 6 Nov 1994 08:49:37 GMT", // one-digit day
    "Sun, 06 Nov 94 08:49:37 GMT", // two-digit year in IMF-fixdate
    "sun, 06 nov 1994 08:49:37 gmt", // case-sensitive
    "Sun, 06 Nov 1994 08:49:37", // no zone
    "Sun, 06 Nov 1994 08:49:37 +0000",
    "Sun, 06 Nov 1994 24:00:00 GMT", // hour out of range
    "Sun, 06 Nov 1994 08:60:00 GMT",
    "Mon, 31 Apr 2023 00:00:00 GMT", // April has 30 days
    "Sun, 06-Nov-94 08:49:37 GMT", // rfc850 needs the long day name
    "Sunday, 06 Nov 1994 08:49:37 GMT",
    "Sun Nov 6 08:49:37 1994", // asctime pads a one-digit day with a space
    "1994-11-06T08:49:37Z",
    "0",
    "-1",
    "",
    "soon",
  ];
  for (const value of invalid) assert.equal(parseHttpDate(value), undefined, value);
  assert.equal(parseHttpDate(undefined), undefined);
});

Deno.test("An invalid Expires means already expired (RFC 9111 §5.3)", () => {
  const opts = { shared: true, heuristicTtlMs: 300_000, responseTime: NOW_2026 };
  const date = formatHttpDate(NOW_2026);
  const inAnHour = NOW_2026 + 3_600_000;
  assert.equal(
    freshnessLifetimeMs(200, [["date", date], ["expires", formatHttpDate(inAnHour)]], opts),
    3_600_000,
  );
  for (const expires of ["0", "Thu, 26 Nov 2026 13:00:00 UTC", "Thu 26 Nov 2026 13:00:00 GMT", "never"]) {
    assert.equal(freshnessLifetimeMs(200, [["date", date], ["expires", expires]], opts), 0, expires);
  }
  // An invalid Date is replaced by the receipt time (RFC 9110 §6.6.1), so Expires counts from then.
  const badDate = "Thu, 26 Nov 2026 12:00:00 UTC";
  assert.equal(
    freshnessLifetimeMs(200, [["date", badDate], ["expires", formatHttpDate(inAnHour)]], opts),
    3_600_000,
  );
});

Deno.test("If-Modified-Since and Last-Modified are compared only when both are valid HTTP-dates", () => {
  const lm = "Sun, 06 Nov 1994 08:49:37 GMT";
  assert.equal(clientNotModified([["if-modified-since", lm]], [["last-modified", lm]]), true);
  assert.equal(
    clientNotModified([["if-modified-since", "Sun, 06 Nov 1994 08:49:37 UTC"]], [["last-modified", lm]]),
    false,
  );
  assert.equal(
    clientNotModified([["if-modified-since", lm]], [["last-modified", "Sun, 06 Nov 1994 8:49:37 GMT"]]),
    false,
  );
});
