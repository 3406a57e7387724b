/** Range and If-Range on a complete stored response, from the RFC 9110 §14 and §13.1.5 text. */
import assert from "node:assert/strict";
import { contentRange, ifRangeMatches, rangeAnswer } from "../../src/cache/byte_range.ts";

const LM = "Tue, 01 Dec 2026 10:00:00 GMT";
const STORED: Array<[string, string]> = [
  ["etag", '"v1"'],
  ["last-modified", LM],
  ["date", "Wed, 02 Dec 2026 10:00:00 GMT"],
];
const of = (range: string, length = 10000, ifRange: string | null = null, headers = STORED) =>
  rangeAnswer(range, ifRange, headers, length);

Deno.test("rangeAnswer(): the §14.1.2 examples on a 10000-byte representation", () => {
  assert.deepEqual(of("bytes=0-499"), { kind: "partial", start: 0, end: 499, length: 10000 });
  assert.deepEqual(of("bytes=500-999"), { kind: "partial", start: 500, end: 999, length: 10000 });
  assert.deepEqual(of("bytes=-500"), { kind: "partial", start: 9500, end: 9999, length: 10000 });
  assert.deepEqual(of("bytes=9500-"), { kind: "partial", start: 9500, end: 9999, length: 10000 });
});

Deno.test("rangeAnswer(): last-pos past the end is cut, a suffix longer than the body is all of it", () => {
  assert.deepEqual(of("bytes=9000-20000"), { kind: "partial", start: 9000, end: 9999, length: 10000 });
  assert.deepEqual(of("bytes=-20000"), { kind: "partial", start: 0, end: 9999, length: 10000 });
  assert.deepEqual(of("bytes=0-"), { kind: "partial", start: 0, end: 9999, length: 10000 });
  assert.deepEqual(of("bytes=0-0"), { kind: "partial", start: 0, end: 0, length: 10000 });
});

Deno.test("rangeAnswer(): the unit is case-insensitive and OWS and empty list elements are accepted", () => {
  assert.equal(of("Bytes=0-1").kind, "partial");
  assert.deepEqual(of("bytes= 1-2 ,"), { kind: "partial", start: 1, end: 2, length: 10000 });
});

Deno.test("rangeAnswer(): first-pos at or past the length and a zero suffix are unsatisfiable (416)", () => {
  assert.deepEqual(of("bytes=10000-"), { kind: "unsatisfiable", length: 10000 });
  assert.deepEqual(of("bytes=10000-10005"), { kind: "unsatisfiable", length: 10000 });
  assert.deepEqual(of("bytes=-0"), { kind: "unsatisfiable", length: 10000 });
});

Deno.test("rangeAnswer(): invalid fields, other units, several ranges, an empty body → the full response", () => {
  for (
    const range of [
      "bytes=5-2",
      "bytes=abc",
      "bytes",
      "items=0-5",
      "bytes=1-2-3",
      "bytes=--1",
      "bytes=",
      "b y=1-2",
    ]
  ) {
    assert.deepEqual(of(range), { kind: "full" }, range);
  }
  // §14.1.2: several ranges; answered with the whole representation (ignoring Range is allowed, §14.2).
  assert.deepEqual(of("bytes=0-0,-1"), { kind: "full" });
  assert.deepEqual(of("bytes=500-600,601-999"), { kind: "full" });
  assert.deepEqual(of("bytes=0-5", 0), { kind: "full" });
});

Deno.test("Content-Range: `bytes first-last/complete`, or `bytes */complete` when unsatisfiable (§14.4)", () => {
  assert.equal(contentRange({ kind: "partial", start: 42, end: 1233, length: 1234 }), "bytes 42-1233/1234");
  assert.equal(contentRange({ kind: "unsatisfiable", length: 1234 }), "bytes */1234");
});

Deno.test("If-Range with an entity-tag: a strong match selects the range, anything else the full response", () => {
  assert.equal(of("bytes=0-1", 100, '"v1"').kind, "partial");
  assert.equal(of("bytes=0-1", 100, '"v2"').kind, "full");
  assert.equal(of("bytes=0-1", 100, 'W/"v1"').kind, "full", "weak tags never match");
  const weak: Array<[string, string]> = [["etag", 'W/"v1"']];
  assert.equal(of("bytes=0-1", 100, 'W/"v1"', weak).kind, "full");
  assert.equal(of("bytes=0-1", 100, '"v1"', weak).kind, "full");
  assert.equal(of("bytes=0-1", 100, '"v1"', []).kind, "full", "nothing to match");
  // If-Range false with an unsatisfiable range: the full response, not 416.
  assert.equal(of("bytes=500-", 100, '"v2"').kind, "full");
  assert.equal(of("bytes=500-", 100, '"v1"').kind, "unsatisfiable");
});

Deno.test("If-Range with an HTTP-date: exactly the stored Last-Modified, and only when that is strong", () => {
  assert.equal(ifRangeMatches(LM, STORED), true);
  assert.equal(ifRangeMatches("Tuesday, 01-Dec-26 10:00:00 GMT", STORED), true, "obsolete rfc850 form");
  assert.equal(ifRangeMatches("Tue, 01 Dec 2026 10:00:01 GMT", STORED), false);
  assert.equal(ifRangeMatches("Tue, 01 Dec 2026 10:00:00 UTC", STORED), false, "not an HTTP-date");
  assert.equal(ifRangeMatches(LM, [["last-modified", LM]]), false, "no Date: cannot tell it is strong");
  // §8.8.2.2: an intermediate cache needs Date at least 60 s after Last-Modified.
  const close: Array<[string, string]> = [["last-modified", LM], ["date", "Tue, 01 Dec 2026 10:00:30 GMT"]];
  assert.equal(ifRangeMatches(LM, close), false);
  assert.equal(of("bytes=0-1", 100, LM).kind, "partial");
});
