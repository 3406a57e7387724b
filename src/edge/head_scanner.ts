/**
 * Pure scanners for the connection guard: where a request head ends, whether its line syntax is strict
 * (CRLF only, header count bound), how its body is framed (RFC 9112 §6), and where a chunked body ends
 * (RFC 9112 §7.1, strict chunk-ext syntax). No I/O; the guard feeds them the bytes it relays.
 */

const CR = 13, LF = 10;

export interface HeadLimits {
  /** Header lines allowed after the request line; more → 431. */
  readonly maxHeaderCount: number;
  /** Bytes of the whole head (request line, fields, final CRLF); more → 431. */
  readonly maxHeadBytes: number;
}

/** Incremental state of one head scan; `reset` before the next head. */
export class HeadScan {
  /** Next byte to look at. */
  pos = 0;
  /** Start of the current line. */
  lineStart = 0;
  /** Lines seen (request line included). */
  lines = 0;
  /** Leading empty lines skipped before the request line (RFC 9112 §2.2). */
  skip = 0;

  reset(): void {
    this.pos =
      this.lineStart =
      this.lines =
      this.skip =
        0;
  }
}

export type BodyFraming =
  | { readonly kind: "none" }
  | { readonly kind: "length"; readonly length: number }
  | { readonly kind: "chunked" };

export interface RequestHead {
  readonly kind: "head";
  /** Index just past the final CRLF. */
  readonly end: number;
  /** Index of the request line (after skipped empty lines). */
  readonly start: number;
  /** Index just past the request line's CRLF: where the guard inserts its own field. */
  readonly requestLineEnd: number;
  readonly body: BodyFraming;
  /** The request asks for a protocol upgrade (WebSocket): a tunnel once its answer is a 101. */
  readonly upgrade: boolean;
  /** The connection ends after this request's answer: `Connection: close`, or HTTP/1.0 without keep-alive. */
  readonly close: boolean;
  /** [start, end) byte ranges of fields to drop (a client-sent copy of the guard's own field). */
  readonly drop: readonly (readonly [number, number])[];
}

export interface HeadError {
  readonly kind: "error";
  readonly status: 400 | 431 | 501 | 505;
  readonly reason: string;
}

export type HeadResult = { readonly kind: "incomplete" } | RequestHead | HeadError;

const INCOMPLETE = { kind: "incomplete" } as const;

function error(status: 400 | 431 | 501 | 505, reason: string): HeadError {
  return { kind: "error", status, reason };
}

/**
 * Scans `bytes[0..length)` from `scan.pos`. The buffer must hold the head from its first byte (the guard
 * keeps a partial head until it completes). `ownField` is the lower-case name of the guard's field.
 */
export function scanHead(
  bytes: Uint8Array,
  length: number,
  scan: HeadScan,
  limits: HeadLimits,
  ownField: string,
): HeadResult {
  for (let i = scan.pos; i < length; i++) {
    const c = bytes[i]!;
    if (c === LF) {
      if (i === 0 || bytes[i - 1] !== CR) return error(400, "bare LF in request head");
      if (i - 1 === scan.lineStart) {
        if (scan.lines === 0) {
          if (scan.skip >= 8) return error(400, "empty lines before request line");
          scan.skip = scan.lineStart = i + 1; // an empty line before the request line is ignored
          continue;
        }
        scan.pos = i + 1;
        return parseFields(bytes, scan.skip, i + 1, ownField);
      }
      scan.lines++;
      if (scan.lines - 1 > limits.maxHeaderCount) return error(431, "too many header fields");
      scan.lineStart = i + 1;
    } else if (i > 0 && bytes[i - 1] === CR) {
      return error(400, "bare CR in request head");
    } else if (c === 0) {
      return error(400, "NUL in request head");
    }
  }
  scan.pos = length;
  if (length - scan.skip > limits.maxHeadBytes) return error(431, "request head too large");
  return INCOMPLETE;
}

const DIGITS = /^[0-9]{1,15}$/;

function lower(bytes: Uint8Array, from: number, to: number): string {
  let s = "";
  for (let i = from; i < to; i++) {
    const c = bytes[i]!;
    s += String.fromCharCode(c >= 65 && c <= 90 ? c + 32 : c);
  }
  return s;
}

function text(bytes: Uint8Array, from: number, to: number): string {
  let s = "";
  for (let i = from; i < to; i++) s += String.fromCharCode(bytes[i]!);
  return s.trim();
}

/** Names the guard reads; the others are left to Deno's parser and the app. */
const FRAMING_FIRST = new Set([99, 67, 116, 84, 117, 85, 120, 88]); // c C t T u U x X

/** Parses the field lines of a complete head [start, end). */
function parseFields(bytes: Uint8Array, start: number, end: number, ownField: string): HeadResult {
  let at = start;
  while (bytes[at] !== CR) at++;
  const requestLineEnd = at + 2;
  const lineError = checkRequestLine(bytes, start, at);
  if (lineError !== undefined) return lineError;
  const http10 = bytes[at - 1] === 48 && bytes[at - 3] === 49; // "HTTP/1.0"
  let contentLength: string | undefined;
  let chunked = false;
  let transferEncoding: string | undefined;
  let upgrade = false;
  let connection = "";
  const drop: (readonly [number, number])[] = [];
  at = requestLineEnd;
  while (at < end - 2) {
    const lineStart = at;
    const first = bytes[at]!;
    if (first === 32 || first === 9) return error(400, "obsolete line folding");
    let colon = -1;
    while (bytes[at] !== CR) {
      if (colon < 0 && bytes[at] === 58) colon = at;
      at++;
    }
    const lineEnd = at + 2;
    at = lineEnd;
    if (colon <= lineStart) return error(400, "header line without a name");
    const last = bytes[colon - 1]!;
    if (last === 32 || last === 9) return error(400, "whitespace before colon");
    // field-name = token (RFC 9110 §5.1): a name with other bytes (a tab, say) is not a field we could read.
    for (let i = lineStart; i < colon; i++) if (!isTchar(bytes[i]!)) return error(400, "invalid field name");
    if (!FRAMING_FIRST.has(first)) continue;
    const name = lower(bytes, lineStart, colon);
    if (name === "content-length") {
      const value = text(bytes, colon + 1, lineEnd - 2);
      if (!DIGITS.test(value)) return error(400, "invalid Content-Length");
      if (contentLength !== undefined && contentLength !== value) {
        return error(400, "conflicting Content-Length");
      }
      contentLength = value;
    } else if (name === "transfer-encoding") {
      const value = text(bytes, colon + 1, lineEnd - 2).toLowerCase();
      transferEncoding = transferEncoding === undefined ? value : `${transferEncoding},${value}`;
    } else if (name === "upgrade") {
      upgrade = true;
    } else if (name === "connection") {
      connection += `,${text(bytes, colon + 1, lineEnd - 2).toLowerCase()}`;
    } else if (name === ownField) {
      drop.push([lineStart, lineEnd]);
    }
  }
  if (transferEncoding !== undefined) {
    if (contentLength !== undefined) return error(400, "both Content-Length and Transfer-Encoding");
    if (http10) return error(400, "Transfer-Encoding in HTTP/1.0");
    const codings = transferEncoding.split(",").map((s) => s.trim());
    if (codings.at(-1) !== "chunked") return error(400, "Transfer-Encoding does not end in chunked");
    if (codings.length !== 1) return error(501, "transfer coding not implemented");
    chunked = true;
  }
  const body: BodyFraming = chunked
    ? { kind: "chunked" }
    : contentLength !== undefined && contentLength !== "0" && Number(contentLength) > 0
    ? { kind: "length", length: Number(contentLength) }
    : { kind: "none" };
  const tokens = connection.split(",").map((token) => token.trim());
  const close = tokens.includes("close") || (http10 && !tokens.includes("keep-alive"));
  return { kind: "head", start, end, requestLineEnd, body, upgrade, close, drop };
}

/**
 * `method SP request-target SP HTTP-version` (RFC 9112 §3): a token, one space, a target without spaces or
 * control bytes, one space, `HTTP/1.0` or `HTTP/1.1`. A well-formed later version gets 505, anything else 400.
 */
function checkRequestLine(bytes: Uint8Array, from: number, to: number): HeadError | undefined {
  let at = from;
  while (at < to && isTchar(bytes[at]!)) at++;
  if (at === from || bytes[at] !== 32) return error(400, "invalid method");
  const targetStart = ++at;
  while (at < to && bytes[at]! > 32 && bytes[at]! < 127) at++; // visible ASCII only
  if (at === targetStart || bytes[at] !== 32) return error(400, "invalid request target");
  let version = "";
  for (let i = at + 1; i < to; i++) version += String.fromCharCode(bytes[i]!);
  if (version === "HTTP/1.1" || version === "HTTP/1.0") return undefined;
  return /^HTTP\/[2-9]\.\d$/.test(version)
    ? error(505, "HTTP version not supported")
    : error(400, "invalid HTTP version");
}

/** tchar (RFC 9110 §5.6.2). */
const TCHAR = new Uint8Array(128);
for (const c of "!#$%&'*+-.^_`|~0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ") {
  TCHAR[c.charCodeAt(0)] = 1;
}
function isTchar(c: number): boolean {
  return c < 128 && TCHAR[c] === 1;
}
function hexValue(c: number): number {
  if (c >= 48 && c <= 57) return c - 48;
  if (c >= 97 && c <= 102) return c - 87;
  if (c >= 65 && c <= 70) return c - 55;
  return -1;
}

const enum Chunk {
  SizeStart,
  Size,
  ExtNameStart,
  ExtName,
  ExtValueStart,
  ExtToken,
  ExtQuoted,
  ExtQuotedEscape,
  ExtAfterQuoted,
  SizeLf,
  Data,
  DataCr,
  DataLf,
  TrailerLineStart,
  TrailerLine,
  TrailerLf,
  EndLf,
  Done,
}

/** Result of {@linkcode ChunkedScanner.scan}: bytes consumed, and whether the body ended or is malformed. */
export interface ChunkedProgress {
  readonly consumed: number;
  readonly done: boolean;
  readonly error?: string;
}

/** Follows a chunked request body across reads; strict about chunk-size, chunk-ext and CRLFs. */
export class ChunkedScanner {
  #state = Chunk.SizeStart;
  #size = 0;
  #digits = 0;
  #trailerBytes = 0;

  /** Scans bytes[from, to); stops right after the body's last CRLF. */
  scan(bytes: Uint8Array, from: number, to: number): ChunkedProgress {
    let i = from;
    while (i < to) {
      const c = bytes[i]!;
      switch (this.#state) {
        case Chunk.SizeStart:
        case Chunk.Size: {
          const v = hexValue(c);
          if (v >= 0) {
            if (++this.#digits > 12) {
              return { consumed: i - from, done: false, error: "chunk size too large" };
            }
            this.#size = this.#size * 16 + v;
            this.#state = Chunk.Size;
          } else if (this.#state === Chunk.SizeStart) {
            return { consumed: i - from, done: false, error: "missing chunk size" };
          } else if (c === 59) this.#state = Chunk.ExtNameStart;
          else if (c === CR) this.#state = Chunk.SizeLf;
          else return { consumed: i - from, done: false, error: "invalid chunk size" };
          break;
        }
        case Chunk.ExtNameStart:
          if (!isTchar(c)) return { consumed: i - from, done: false, error: "invalid chunk extension" };
          this.#state = Chunk.ExtName;
          break;
        case Chunk.ExtName:
        case Chunk.ExtToken:
          if (c === 61 && this.#state === Chunk.ExtName) this.#state = Chunk.ExtValueStart;
          else if (c === 59) this.#state = Chunk.ExtNameStart;
          else if (c === CR) this.#state = Chunk.SizeLf;
          else if (!isTchar(c)) return { consumed: i - from, done: false, error: "invalid chunk extension" };
          break;
        case Chunk.ExtValueStart:
          if (c === 34) this.#state = Chunk.ExtQuoted;
          else if (isTchar(c)) this.#state = Chunk.ExtToken;
          else return { consumed: i - from, done: false, error: "invalid chunk extension value" };
          break;
        case Chunk.ExtQuoted:
          if (c === 34) this.#state = Chunk.ExtAfterQuoted;
          else if (c === 92) this.#state = Chunk.ExtQuotedEscape;
          else if (c === CR || c === LF || c === 0 || c === 127) {
            return { consumed: i - from, done: false, error: "invalid quoted chunk extension" };
          }
          break;
        case Chunk.ExtQuotedEscape:
          if (c === CR || c === LF) {
            return { consumed: i - from, done: false, error: "invalid quoted chunk extension" };
          }
          this.#state = Chunk.ExtQuoted;
          break;
        case Chunk.ExtAfterQuoted:
          if (c === 59) this.#state = Chunk.ExtNameStart;
          else if (c === CR) this.#state = Chunk.SizeLf;
          else return { consumed: i - from, done: false, error: "invalid chunk extension" };
          break;
        case Chunk.SizeLf:
          if (c !== LF) return { consumed: i - from, done: false, error: "bare CR after chunk size" };
          this.#digits = 0;
          this.#state = this.#size === 0 ? Chunk.TrailerLineStart : Chunk.Data;
          break;
        case Chunk.Data: {
          const take = Math.min(this.#size, to - i);
          this.#size -= take;
          i += take;
          if (this.#size === 0) this.#state = Chunk.DataCr;
          continue;
        }
        case Chunk.DataCr:
          if (c !== CR) return { consumed: i - from, done: false, error: "chunk data longer than its size" };
          this.#state = Chunk.DataLf;
          break;
        case Chunk.DataLf:
          if (c !== LF) return { consumed: i - from, done: false, error: "bare CR after chunk data" };
          this.#state = Chunk.SizeStart;
          break;
        case Chunk.TrailerLineStart:
          if (c === CR) this.#state = Chunk.EndLf;
          else if (c === LF || c === 32 || c === 9) {
            return { consumed: i - from, done: false, error: "invalid trailer line" };
          } else this.#state = Chunk.TrailerLine;
          break;
        case Chunk.TrailerLine:
          if (++this.#trailerBytes > 16 * 1024) {
            return { consumed: i - from, done: false, error: "trailers too large" };
          }
          if (c === CR) this.#state = Chunk.TrailerLf;
          else if (c === LF) return { consumed: i - from, done: false, error: "bare LF in trailer" };
          break;
        case Chunk.TrailerLf:
          if (c !== LF) return { consumed: i - from, done: false, error: "bare CR in trailer" };
          this.#state = Chunk.TrailerLineStart;
          break;
        case Chunk.EndLf:
          if (c !== LF) return { consumed: i - from, done: false, error: "bare CR after last chunk" };
          this.#state = Chunk.Done;
          return { consumed: i + 1 - from, done: true };
        case Chunk.Done:
          return { consumed: i - from, done: true };
      }
      i++;
    }
    return { consumed: to - from, done: false };
  }
}
