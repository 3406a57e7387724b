/**
 * HTTP/1.1 response parsing (RFC 9112), strict where a proxy must be: bytes in, a head record or a
 * {@linkcode ResponseParseError} out, and a chunked-body decoder as a state machine. Pure module: no sockets,
 * no Web objects, so every byte case is testable directly.
 */

/** A response the proxy must not forward (becomes a 502). */
export class ResponseParseError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "ResponseParseError";
  }
}

/** How the body of a response is delimited (RFC 9112 §6.3). */
export type BodyFraming = "none" | "length" | "chunked" | "close";

export interface ResponseHead {
  readonly status: number;
  readonly reason: string;
  /** `[name, value]` in arrival order; names lower case, values with surrounding whitespace removed. */
  readonly fields: Array<[string, string]>;
  /** Bytes of the head including the final empty line. */
  readonly headBytes: number;
  /** Content-Length when framing is "length". */
  readonly contentLength: number;
  readonly framing: BodyFraming;
  /** Whether the connection may carry another request after this response's body. */
  readonly reusable: boolean;
}

const CR = 13;
const LF = 10;

/** tchar of RFC 9110 §5.6.2. */
const TCHAR = new Uint8Array(256);
for (const c of "!#$%&'*+-.^_`|~") TCHAR[c.charCodeAt(0)] = 1;
for (let c = 48; c <= 57; c++) TCHAR[c] = 1;
for (let c = 65; c <= 90; c++) TCHAR[c] = 1;
for (let c = 97; c <= 122; c++) TCHAR[c] = 1;

/** Index of the CRLFCRLF ending a head in `buf[start, end)`, or -1. Rejects a bare LF anywhere in the head. */
function findHeadEnd(buf: Uint8Array, start: number, end: number): number {
  let high = 0;
  let control = false;
  for (let i = start; i < end; i++) {
    const b = buf[i]!;
    high |= b;
    if (b >= 32 && b !== 127) continue;
    if (b !== LF) {
      if (b !== CR && b !== 9) control = true;
      continue;
    }
    if (i === start || buf[i - 1] !== CR) throw new ResponseParseError("bare LF in response head");
    if (i - 3 >= start && buf[i - 2] === LF && buf[i - 3] === CR) {
      headIsAscii = high < 0x80;
      headHasControl = control;
      return i - 3;
    }
  }
  return -1;
}

/** Set by the last successful findHeadEnd: no byte ≥ 0x80 in the head (the usual case). */
let headIsAscii = false;
/** Set by the last successful findHeadEnd: a control byte other than CR, LF and HTAB (or DEL) in the head. */
let headHasControl = false;
const utf8 = new TextDecoder();

/** The bytes as a string, one char per byte. */
function latin1(buf: Uint8Array, start: number, end: number, ascii: boolean): string {
  // ASCII decodes alike in UTF-8 and latin1, and TextDecoder is ≈ 2× faster than fromCharCode.apply here.
  if (ascii) return utf8.decode(buf.subarray(start, end));
  let s = "";
  for (let i = start; i < end; i += 8192) {
    s += String.fromCharCode.apply(null, buf.subarray(i, Math.min(end, i + 8192)) as unknown as number[]);
  }
  return s;
}

/**
 * Parses a response head from `buf[start, end)`. Returns undefined when the head is not complete yet (and
 * `maxBytes` is not exceeded); throws ResponseParseError for anything malformed or too large.
 * `method` decides whether the response can have a body (HEAD never does).
 */
export function parseResponseHead(
  buf: Uint8Array,
  start: number,
  end: number,
  options: { readonly method: string; readonly maxBytes: number },
): ResponseHead | undefined {
  const headEnd = findHeadEnd(buf, start, Math.min(end, start + options.maxBytes + 4));
  if (headEnd < 0) {
    if (end - start > options.maxBytes) {
      throw new ResponseParseError(`response head exceeds ${options.maxBytes} bytes`);
    }
    return undefined;
  }
  // One string for the whole head (latin1: every byte one char), then string scans per line.
  const text = latin1(buf, start, headEnd + 2, headIsAscii);
  // Status line: HTTP/1.x SP 3DIGIT [SP reason]
  const lineEnd = text.indexOf("\r");
  const { minor, status, reason } = statusLine(text, lineEnd);
  if (status < 100 || status > 599) throw new ResponseParseError(`status ${status} outside 100–599`);

  const fields: Array<[string, string]> = [];
  let contentLength = -1;
  let transferEncoding: string | undefined;
  let connection = "";
  let pos = lineEnd + 2;
  const length = text.length;
  while (pos < length) {
    const eol = text.indexOf("\r", pos);
    if (text.charCodeAt(eol + 1) !== LF) throw new ResponseParseError("CR without LF in a header field");
    const first = text.charCodeAt(pos);
    if (first === 32 || first === 9) throw new ResponseParseError("obsolete line folding");
    let colon = pos;
    while (colon < eol && TCHAR[text.charCodeAt(colon)] === 1) colon++;
    if (colon === pos || colon >= eol || text.charCodeAt(colon) !== 58) {
      throw new ResponseParseError("malformed header field name");
    }
    let vs = colon + 1;
    let ve = eol;
    while (vs < ve && (text.charCodeAt(vs) === 32 || text.charCodeAt(vs) === 9)) vs++;
    while (ve > vs && (text.charCodeAt(ve - 1) === 32 || text.charCodeAt(ve - 1) === 9)) ve--;
    // CR and LF cannot be inside a value here (a CR ends the line above); other control bytes were flagged.
    if (headHasControl) {
      for (let i = vs; i < ve; i++) {
        const c = text.charCodeAt(i);
        if ((c < 32 && c !== 9) || c === 127) {
          throw new ResponseParseError("control character in a header value");
        }
      }
    }
    const name = text.slice(pos, colon).toLowerCase();
    const value = text.slice(vs, ve);
    if (name === "content-length") {
      for (const part of value.split(",")) {
        const item = part.trim();
        if (!/^\d{1,15}$/.test(item)) throw new ResponseParseError("invalid Content-Length");
        const n = Number(item);
        if (contentLength >= 0 && n !== contentLength) {
          throw new ResponseParseError("differing Content-Length");
        }
        contentLength = n;
      }
    } else if (name === "transfer-encoding") {
      transferEncoding = transferEncoding === undefined ? value : `${transferEncoding}, ${value}`;
    } else if (name === "connection") {
      connection += "," + value.toLowerCase();
    }
    fields.push([name, value]);
    pos = eol + 2;
  }
  const headBytes = headEnd + 4 - start;
  const tokens = connection === "" ? [] : connection.split(",").map((t) => t.trim());
  let reusable = minor === 1 ? !tokens.includes("close") : tokens.includes("keep-alive");

  let framing: BodyFraming;
  if (options.method === "HEAD" || status < 200 || status === 204 || status === 304) {
    framing = "none";
    contentLength = 0;
  } else if (transferEncoding !== undefined) {
    const codings = transferEncoding.split(",").map((t) => t.trim().toLowerCase()).filter((t) => t !== "");
    if (codings[codings.length - 1] === "chunked") {
      if (codings.length > 1) throw new ResponseParseError("transfer codings other than chunked");
      framing = "chunked";
    } else {
      framing = "close";
      reusable = false;
    }
    // RFC 9112 §6.1: with both, chunked wins and the connection is not reused.
    if (contentLength >= 0) reusable = false;
  } else if (contentLength >= 0) {
    framing = contentLength === 0 ? "none" : "length";
  } else {
    framing = "close";
    reusable = false;
  }
  return { status, reason, fields, headBytes, contentLength, framing, reusable };
}

/**
 * `HTTP/1.x SP 3DIGIT [SP reason]` in `text[0, lineEnd)`; reason: HTAB, SP, VCHAR, obs-text. Checked by char
 * codes (a regex exec per response cost ≈ 0.4 µs).
 */
function statusLine(text: string, lineEnd: number): { minor: number; status: number; reason: string } {
  const minorChar = text.charCodeAt(7);
  const d0 = text.charCodeAt(9) - 48;
  const d1 = text.charCodeAt(10) - 48;
  const d2 = text.charCodeAt(11) - 48;
  if (
    lineEnd < 12 || !text.startsWith("HTTP/1.") || (minorChar !== 48 && minorChar !== 49) ||
    text.charCodeAt(8) !== 32 || !(d0 >= 0 && d0 <= 9 && d1 >= 0 && d1 <= 9 && d2 >= 0 && d2 <= 9) ||
    (lineEnd > 12 && text.charCodeAt(12) !== 32)
  ) {
    throw new ResponseParseError("malformed status line");
  }
  if (headHasControl) {
    for (let i = 13; i < lineEnd; i++) {
      const c = text.charCodeAt(i);
      if ((c < 32 && c !== 9) || c === 127) throw new ResponseParseError("malformed status line");
    }
  }
  return {
    minor: minorChar - 48,
    status: d0 * 100 + d1 * 10 + d2,
    reason: lineEnd > 13 ? text.slice(13, lineEnd) : "",
  };
}

type ChunkState =
  | "size"
  | "ext"
  | "size_lf"
  | "data"
  | "data_cr"
  | "data_lf"
  | "trailer"
  | "trailer_lf"
  | "done";

/**
 * Decodes a chunked body (RFC 9112 §7.1): hex sizes, extensions ignored, trailers read and dropped,
 * CRLF required everywhere (a bare LF is an error). Feed bytes with {@linkcode push}; `done` turns true after
 * the last chunk's trailer section.
 */
export class ChunkedDecoder {
  #state: ChunkState = "size";
  #size = 0;
  #digits = 0;
  #remaining = 0;
  #lineLength = 0;
  #trailerBytes = 0;
  readonly #maxTrailerBytes: number;

  constructor(options: { maxTrailerBytes?: number } = {}) {
    this.#maxTrailerBytes = options.maxTrailerBytes ?? 16 * 1024;
  }

  get done(): boolean {
    return this.#state === "done";
  }

  /**
   * Consumes from `buf[start, end)`, calling `onData` with views of body bytes (valid only during the call
   * unless copied). Returns the number of bytes consumed: all of them, or fewer once done (the rest belongs to
   * the next response). Throws ResponseParseError on bad framing.
   */
  push(buf: Uint8Array, start: number, end: number, onData: (data: Uint8Array) => void): number {
    let i = start;
    while (i < end) {
      const c = buf[i]!;
      switch (this.#state) {
        case "size": {
          const v = hexValue(c);
          if (v >= 0) {
            if (++this.#digits > 13) throw new ResponseParseError("chunk size too large");
            this.#size = this.#size * 16 + v;
            i++;
          } else if (this.#digits === 0) {
            throw new ResponseParseError("invalid chunk size");
          } else if (c === CR) {
            this.#state = "size_lf";
            i++;
          } else if (c === 59 || c === 32 || c === 9) {
            this.#state = "ext";
            i++;
          } else {
            throw new ResponseParseError("invalid chunk size");
          }
          break;
        }
        case "ext":
          if (c === CR) this.#state = "size_lf";
          else if (c === LF) throw new ResponseParseError("bare LF in chunked framing");
          i++;
          break;
        case "size_lf":
          if (c !== LF) throw new ResponseParseError("CR without LF in chunked framing");
          i++;
          if (this.#size === 0) {
            this.#state = "trailer";
            this.#lineLength = 0;
          } else {
            this.#remaining = this.#size;
            this.#state = "data";
          }
          this.#size = 0;
          this.#digits = 0;
          break;
        case "data": {
          const n = Math.min(this.#remaining, end - i);
          onData(buf.subarray(i, i + n));
          this.#remaining -= n;
          i += n;
          if (this.#remaining === 0) this.#state = "data_cr";
          break;
        }
        case "data_cr":
          if (c !== CR) throw new ResponseParseError("chunk data not followed by CRLF");
          this.#state = "data_lf";
          i++;
          break;
        case "data_lf":
          if (c !== LF) throw new ResponseParseError("chunk data not followed by CRLF");
          this.#state = "size";
          i++;
          break;
        case "trailer":
          if (c === CR) this.#state = "trailer_lf";
          else if (c === LF) throw new ResponseParseError("bare LF in chunked framing");
          else this.#lineLength++;
          if (++this.#trailerBytes > this.#maxTrailerBytes) {
            throw new ResponseParseError("trailers too large");
          }
          i++;
          break;
        case "trailer_lf":
          if (c !== LF) throw new ResponseParseError("CR without LF in chunked framing");
          i++;
          if (this.#lineLength === 0) {
            this.#state = "done";
            return i - start;
          }
          this.#lineLength = 0;
          this.#state = "trailer";
          break;
        case "done":
          return i - start;
      }
    }
    return i - start;
  }
}

function hexValue(c: number): number {
  if (c >= 48 && c <= 57) return c - 48;
  if (c >= 97 && c <= 102) return c - 87;
  if (c >= 65 && c <= 70) return c - 55;
  return -1;
}
