/**
 * Strict HTTP/1.1 message readers for the fuzz run: a byte reader with deadlines, a response reader that
 * fails on anything RFC 9112 does not allow a server to send, and a request reader for the raw upstream that
 * fails on anything a proxy should not send. Independent of the proxy's own parsers on purpose.
 */

const CR = 13, LF = 10;
const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
/** field-value: VCHAR / obs-text / SP / HTAB, no CR, LF or NUL (RFC 9110 §5.5). */
const FIELD_VALUE = /^[\t\x20-\x7e\x80-\xff]*$/;
/** Bytes as code points 0–255 (TextDecoder's "latin1" is windows-1252, which remaps 0x80–0x9f). */
function latin1(bytes: Uint8Array): string {
  let text = "";
  for (let i = 0; i < bytes.length; i += 8192) {
    text += String.fromCharCode(...bytes.subarray(i, i + 8192));
  }
  return text;
}

export class WireError extends Error {}

/** Buffered reads from one socket; `deadline` is an absolute `Date.now()` value. */
export class ByteReader {
  #conn: Deno.Conn;
  #buffer = new Uint8Array(0);
  #eof = false;

  constructor(conn: Deno.Conn) {
    this.#conn = conn;
  }

  get buffered(): number {
    return this.#buffer.length;
  }

  /** Reads more bytes; false at EOF; throws "timeout" when the deadline passes first. */
  async fill(deadline: number): Promise<boolean> {
    if (this.#eof) return false;
    const chunk = new Uint8Array(65536);
    let timer: ReturnType<typeof setTimeout> | undefined;
    const timeout = new Promise<"timeout">((resolve) => {
      timer = setTimeout(() => resolve("timeout"), Math.max(0, deadline - Date.now()));
    });
    try {
      const n = await Promise.race([this.#conn.read(chunk).catch(() => null), timeout]);
      if (n === "timeout") throw new TimeoutError();
      if (n === null) {
        this.#eof = true;
        return false;
      }
      const merged = new Uint8Array(this.#buffer.length + n);
      merged.set(this.#buffer);
      merged.set(chunk.subarray(0, n), this.#buffer.length);
      this.#buffer = merged;
      return true;
    } finally {
      clearTimeout(timer);
    }
  }

  /** One CRLF-terminated line (without CRLF); a bare LF or CR is a WireError; undefined at EOF on a boundary. */
  async line(deadline: number, limit = 65536): Promise<string | undefined> {
    while (true) {
      const at = this.#buffer.indexOf(LF);
      if (at >= 0) {
        if (at === 0 || this.#buffer[at - 1] !== CR) throw new WireError("bare LF");
        const text = latin1(this.#buffer.subarray(0, at - 1));
        if (text.includes("\r")) throw new WireError("bare CR");
        this.#buffer = this.#buffer.subarray(at + 1);
        return text;
      }
      if (this.#buffer.length > limit) throw new WireError("line too long");
      if (!(await this.fill(deadline))) {
        if (this.#buffer.length === 0) return undefined;
        throw new WireError(`EOF inside a line: ${JSON.stringify(latin1(this.#buffer))}`);
      }
    }
  }

  /** Exactly `n` bytes. */
  async bytes(n: number, deadline: number): Promise<Uint8Array> {
    while (this.#buffer.length < n) {
      if (!(await this.fill(deadline))) {
        throw new WireError(`EOF with ${n - this.#buffer.length} body bytes missing`);
      }
    }
    const out = this.#buffer.slice(0, n);
    this.#buffer = this.#buffer.subarray(n);
    return out;
  }

  /** Everything until EOF. */
  async rest(deadline: number): Promise<Uint8Array> {
    while (await this.fill(deadline)) { /* keep reading */ }
    const out = this.#buffer;
    this.#buffer = new Uint8Array(0);
    return out;
  }

  /** True at EOF with nothing buffered; false when bytes arrive; throws on timeout. */
  async atEof(deadline: number): Promise<boolean> {
    if (this.#buffer.length > 0) return false;
    return !(await this.fill(deadline));
  }
}

export class TimeoutError extends Error {
  constructor() {
    super("timeout");
  }
}

export interface Message {
  /** Request line or status line. */
  readonly start: string;
  /** Lower-case names. */
  readonly fields: readonly (readonly [string, string])[];
  readonly body: Uint8Array;
}

export function field(message: Message, name: string): string | undefined {
  return message.fields.find(([n]) => n === name)?.[1];
}

async function readFields(reader: ByteReader, deadline: number): Promise<[string, string][]> {
  const fields: [string, string][] = [];
  while (true) {
    const line = await reader.line(deadline);
    if (line === undefined) throw new WireError("EOF inside the head");
    if (line === "") return fields;
    const colon = line.indexOf(":");
    if (colon <= 0) throw new WireError(`field line without a name: ${JSON.stringify(line)}`);
    const name = line.slice(0, colon);
    const value = line.slice(colon + 1).replace(/^[ \t]+|[ \t]+$/g, "");
    if (!TOKEN.test(name)) throw new WireError(`invalid field name ${JSON.stringify(name)}`);
    if (!FIELD_VALUE.test(value)) throw new WireError(`invalid field value ${JSON.stringify(value)}`);
    fields.push([name.toLowerCase(), value]);
  }
}

/** Body framing shared by both directions (RFC 9112 §6.3); `untilClose` only for responses. */
async function readBody(
  reader: ByteReader,
  fields: readonly (readonly [string, string])[],
  deadline: number,
  untilClose: boolean,
): Promise<Uint8Array> {
  const te = fields.filter(([n]) => n === "transfer-encoding").map(([, v]) => v.toLowerCase());
  const cl = fields.filter(([n]) => n === "content-length").map(([, v]) => v);
  if (te.length > 0) {
    if (cl.length > 0) throw new WireError("both Content-Length and Transfer-Encoding");
    if (te.join(",").trim() !== "chunked") {
      throw new WireError(`unexpected Transfer-Encoding ${te.join(",")}`);
    }
    return await readChunked(reader, deadline);
  }
  if (cl.length > 1) throw new WireError("more than one Content-Length");
  if (cl.length === 1) {
    if (!/^\d{1,15}$/.test(cl[0]!)) throw new WireError(`invalid Content-Length ${cl[0]}`);
    return await reader.bytes(Number(cl[0]), deadline);
  }
  return untilClose ? await reader.rest(deadline) : new Uint8Array(0);
}

async function readChunked(reader: ByteReader, deadline: number): Promise<Uint8Array> {
  const parts: Uint8Array[] = [];
  while (true) {
    const line = await reader.line(deadline);
    if (line === undefined) throw new WireError("EOF inside a chunked body");
    const match = /^([0-9a-fA-F]{1,15})(;.*)?$/.exec(line);
    if (!match) throw new WireError(`invalid chunk size line ${JSON.stringify(line)}`);
    const size = parseInt(match[1]!, 16);
    if (size === 0) {
      await readFields(reader, deadline); // trailers
      break;
    }
    parts.push(await reader.bytes(size, deadline));
    if ((await reader.line(deadline)) !== "") throw new WireError("chunk data not followed by CRLF");
  }
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

export interface Response extends Message {
  readonly status: number;
  /** Interim (1xx) responses seen before this one. */
  readonly interim: number;
}

/**
 * Reads one final response to a request with `method` (interim 1xx responses are skipped and counted).
 * Undefined at EOF before any byte. Throws WireError when the response is malformed, TimeoutError on timeout.
 */
export async function readResponse(
  reader: ByteReader,
  method: string,
  deadline: number,
  version = "HTTP/1.1",
): Promise<Response | undefined> {
  let interim = 0;
  while (true) {
    const start = await reader.line(deadline);
    if (start === undefined) {
      if (interim > 0) throw new WireError("EOF after an interim response");
      return undefined;
    }
    // HTTP/1.0 only in answer to an HTTP/1.0 request (Deno.serve answers in the client's version).
    const match = /^HTTP\/1\.([01]) ([1-5]\d\d) [\t\x20-\x7e\x80-\xff]*$/.exec(start);
    if (!match || (match[1] === "0" && version !== "HTTP/1.0")) {
      throw new WireError(`invalid status line ${JSON.stringify(start)}`);
    }
    const status = Number(match[2]);
    const fields = await readFields(reader, deadline);
    if (status < 200) {
      if (status === 101) throw new WireError("101 without an upgrade request");
      interim++;
      continue;
    }
    const bodyless = method === "HEAD" || status === 204 || status === 304;
    if (
      bodyless && status === 204 && fields.some(([n]) => n === "content-length" || n === "transfer-encoding")
    ) {
      throw new WireError("204 with framing fields");
    }
    const body = bodyless ? new Uint8Array(0) : await readBody(reader, fields, deadline, true);
    return { start, status, fields, body, interim };
  }
}

/** Reads one request as a proxy should send it (strict). Undefined at EOF before any byte. */
export async function readRequest(reader: ByteReader, deadline: number): Promise<Message | undefined> {
  const start = await reader.line(deadline);
  if (start === undefined) return undefined;
  if (!/^[!#$%&'*+\-.^_`|~0-9A-Za-z]+ [\x21-\x7e]+ HTTP\/1\.1$/.test(start)) {
    throw new WireError(`invalid request line ${JSON.stringify(start)}`);
  }
  const fields = await readFields(reader, deadline);
  if (fields.filter(([n]) => n === "host").length !== 1) throw new WireError("not exactly one Host");
  const body = await readBody(reader, fields, deadline, false);
  return { start, fields, body };
}
