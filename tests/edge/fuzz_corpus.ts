/**
 * Seed corpus and mutators for the request fuzz run (tests/edge/fuzz_test.ts). Everything is derived from one
 * 32-bit seed, so a failing case is reproduced by its seed and index.
 *
 * A case is one client connection: one or more request *parts* written back to back. Every intended request
 * target carries `/c<case>/r<index>`, so the raw upstream can tell which case a forwarded request belongs to.
 * Smuggling seeds hide a complete request `GET /c<case>/smuggled` inside a body, laid out so that under every
 * reading RFC 9112 allows it is body data, or the connection must be closed before it is read:
 * - layout "cl.te": `Content-Length` covers `0\r\n\r\n` + the hidden request; chunked framing ends before it,
 *   and with both fields present the server MUST close after responding (RFC 9112 §6.1);
 * - layout "te.cl": the hidden request sits inside a chunk; a short `Content-Length` would end the body before
 *   it, but `Transfer-Encoding` overrides `Content-Length` (RFC 9112 §6.3), so reading it as a request is only
 *   possible for a parser that lets Content-Length win.
 * Mutations that could legitimately hide the framing field (name changes, bare CR replaced by SP) are
 * therefore never applied to smuggling seeds; those get only the vetted framing variants below.
 */

export type MutationClass =
  | "none"
  | "method"
  | "target"
  | "version"
  | "field_syntax"
  | "bare_lf"
  | "bare_cr"
  | "obs_fold"
  | "nul"
  | "header_count"
  | "content_length"
  | "transfer_encoding"
  | "cl_te"
  | "chunk_size"
  | "chunk_size_space"
  | "chunk_ext"
  | "trailer"
  | "expect"
  | "pipeline"
  | "byte_flip"
  | "fragment";

export interface Part {
  /** Request line then field lines, without line endings. */
  lines: string[];
  /** Line ending per line (index-aligned with `lines`), and the one ending the head. */
  endings: string[];
  headEnd: string;
  /** Bytes after the head, framing included (already chunked when the seed is chunked). */
  body: string;
  /** The method as the client meant it (HEAD responses have no body). */
  method: string;
  /** The RFC (or issue 16) requires a 4xx for this request, nothing forwarded, and the connection closed. */
  mustReject: boolean;
  /** The RFC requires closing the connection after the response to this request (CL and TE both present). */
  mustClose: boolean;
  /** The request carries a hidden `/smuggled` request inside its body. */
  smuggle: boolean;
}

export interface FuzzCase {
  readonly index: number;
  readonly seed: string;
  readonly classes: readonly MutationClass[];
  readonly parts: readonly Part[];
  /** Sizes of the writes the bytes are sent in (one write when empty). */
  readonly fragments: readonly number[];
}

/** Mulberry32: small, fast, deterministic. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

type Random = () => number;

function pick<T>(random: Random, items: readonly T[]): T {
  return items[Math.floor(random() * items.length)]!;
}

function part(method: string, target: string, fields: string[], body = ""): Part {
  const lines = [`${method} ${target} HTTP/1.1`, ...fields];
  return {
    lines,
    endings: lines.map(() => "\r\n"),
    headEnd: "\r\n",
    body,
    method,
    mustReject: false,
    mustClose: false,
    smuggle: false,
  };
}

function chunked(data: string, sizes: readonly number[]): string {
  let out = "";
  let at = 0;
  for (const size of sizes) {
    if (at >= data.length) break;
    const piece = data.slice(at, at + size);
    out += `${piece.length.toString(16)}\r\n${piece}\r\n`;
    at += size;
  }
  if (at < data.length) out += `${(data.length - at).toString(16)}\r\n${data.slice(at)}\r\n`;
  return out + "0\r\n\r\n";
}

function hidden(id: string): string {
  return `GET /${id}/smuggled HTTP/1.1\r\nHost: fuzz.test\r\n\r\n`;
}

/** The seed corpus: name → parts for case `c`. The last part asks for `Connection: close`. */
const SEEDS: Readonly<Record<string, (c: string) => Part[]>> = {
  get: (c) => [part("GET", `/${c}/r0`, ["Host: fuzz.test", "Connection: close"])],
  head: (c) => [part("HEAD", `/${c}/r0?q=1`, ["Host: fuzz.test", "Accept: */*", "Connection: close"])],
  post_length: (c) => [
    part("POST", `/${c}/r0`, [
      "Host: fuzz.test",
      "Content-Length: 11",
      "Content-Type: text/plain",
      "Connection: close",
    ], "hello world"),
  ],
  post_chunked: (c) => [
    part(
      "POST",
      `/${c}/r0`,
      ["Host: fuzz.test", "Transfer-Encoding: chunked", "Connection: close"],
      chunked("hello chunked world", [5, 8]),
    ),
  ],
  put_empty: (c) => [part("PUT", `/${c}/r0`, ["Host: fuzz.test", "Content-Length: 0", "Connection: close"])],
  options: (c) => [part("OPTIONS", `/${c}/r0`, ["Host: fuzz.test", "Max-Forwards: 3", "Connection: close"])],
  keep_alive_pair: (c) => [
    part("GET", `/${c}/r0`, ["Host: fuzz.test"]),
    part("POST", `/${c}/r1`, ["Host: fuzz.test", "Content-Length: 3", "Connection: close"], "abc"),
  ],
  smuggle_cl_te: (c) => {
    const body = `0\r\n\r\n${hidden(c)}`;
    const p = part("POST", `/${c}/r0`, [
      "Host: fuzz.test",
      `Content-Length: ${body.length}`,
      "Transfer-Encoding: chunked",
    ], body);
    p.smuggle = true;
    p.mustClose = true;
    return [p];
  },
  smuggle_te_cl: (c) => {
    const inner = hidden(c);
    const body = `${inner.length.toString(16)}\r\n${inner}\r\n0\r\n\r\n`;
    const p = part(
      "POST",
      `/${c}/r0`,
      ["Host: fuzz.test", "Transfer-Encoding: chunked", "Content-Length: 4"],
      body,
    );
    p.smuggle = true;
    p.mustClose = true;
    return [p];
  },
};

export const SEED_NAMES: readonly string[] = Object.keys(SEEDS);

/** Classes that apply to a seed (smuggling seeds get only framing-safe ones). */
function classesFor(seed: string): readonly MutationClass[] {
  if (seed.startsWith("smuggle")) {
    return ["none", "method", "version", "cl_te", "chunk_size", "chunk_size_space", "fragment"];
  }
  const common: MutationClass[] = [
    "none",
    "method",
    "target",
    "version",
    "field_syntax",
    "bare_lf",
    "bare_cr",
    "obs_fold",
    "nul",
    "header_count",
    "expect",
    "pipeline",
    "byte_flip",
    "fragment",
  ];
  if (seed === "post_length" || seed === "keep_alive_pair") common.push("content_length", "cl_te");
  if (seed === "post_chunked") {
    common.push("transfer_encoding", "cl_te", "chunk_size", "chunk_size_space", "chunk_ext", "trailer");
  }
  return common;
}

function fieldIndex(p: Part, name: string): number {
  return p.lines.findIndex((line, i) => i > 0 && line.toLowerCase().startsWith(`${name}:`));
}

function setField(p: Part, name: string, value: string): void {
  const i = fieldIndex(p, name.toLowerCase());
  if (i < 0) {
    p.lines.push(`${name}: ${value}`);
    p.endings.push("\r\n");
  } else p.lines[i] = `${name}: ${value}`;
}

function addLine(p: Part, line: string, ending = "\r\n", at = p.lines.length): void {
  p.lines.splice(at, 0, line);
  p.endings.splice(at, 0, ending);
}

/** A random field line index other than the request line and the framing fields of smuggling seeds. */
function someField(random: Random, p: Part): number {
  const candidates = p.lines.map((_, i) => i).filter((i) => i > 0);
  return candidates.length === 0 ? 0 : pick(random, candidates);
}

const METHODS = [
  "GET",
  "HEAD",
  "POST",
  "PUT",
  "DELETE",
  "PATCH",
  "OPTIONS",
  "TRACE",
  "CONNECT",
  "get",
  "PRI",
  "M-SEARCH",
  "PROPFIND",
  "FOO",
  "G@T",
  "X".repeat(300),
];
/** Request-line breakers: the request line is invalid, a 400 and close are required. */
const BROKEN_METHODS = ["G ET", "GET\t", "", "GE\x00T", "GÉT"];

const VERSIONS_OK = ["HTTP/1.0", "HTTP/1.1"];
const VERSIONS_BAD = [
  "HTTP/1.2",
  "HTTP/2.0",
  "HTTP/0.9",
  "http/1.1",
  "HTTP/1",
  "HTTP/1.10",
  "HTTP/11",
  "",
  "HTTP/1.1 x",
];

function mutateMethod(random: Random, p: Part): void {
  const [, target, version] = p.lines[0]!.split(" ");
  if (random() < 0.3) {
    const broken = pick(random, BROKEN_METHODS);
    p.lines[0] = `${broken} ${target} ${version}`;
    p.method = broken; // not HEAD any more: its answer may have a body
    p.mustReject = true;
    return;
  }
  const method = pick(random, METHODS);
  p.lines[0] = `${method} ${target} ${version}`;
  p.method = method;
}

function mutateTarget(random: Random, p: Part, c: string): void {
  const [method, target, version] = p.lines[0]!.split(" ");
  const id = target!.split("?")[0]!;
  const targets = [
    "*",
    `http://b.example${id}`,
    `http://b.example:8080${id}?x=1`,
    `HTTP://B.EXAMPLE${id}`,
    `http://user:pw@b.example${id}`,
    `https://b.example${id}`,
    `/${id}`,
    `${id}?a=b&c=%zz`,
    `${id}%00`,
    `${id}/../../../etc/passwd`,
    `${id}/%2e%2e/x`,
    `${id}?${"q".repeat(9000)}`,
    `${id}\x7f`,
    `${id}é`,
    `b.example:80`,
    `${id}#frag`,
    `ftp://b.example${id}`,
  ];
  p.lines[0] = `${method} ${pick(random, targets)} ${version}`;
  if (random() < 0.2) {
    p.lines[0] = `${method} ${id} ${c} ${version}`; // a space in the target: request line invalid
    p.mustReject = true;
  }
}

function mutateVersion(random: Random, p: Part): void {
  // Everything between the first and the last space is the target (a mutated one may hold spaces).
  const line = p.lines[0]!;
  const method = line.slice(0, line.indexOf(" "));
  const target = line.slice(line.indexOf(" ") + 1, line.lastIndexOf(" "));
  if (random() < 0.4) {
    const version = pick(random, VERSIONS_OK);
    p.lines[0] = `${method} ${target} ${version}`;
    // RFC 9112 §6.1: Transfer-Encoding in an HTTP/1.0 request means faulty framing; close after it.
    if (version === "HTTP/1.0" && fieldIndex(p, "transfer-encoding") >= 0) p.mustClose = true;
    return;
  }
  p.lines[0] = `${method} ${target} ${pick(random, VERSIONS_BAD)}`;
}

function mutateFieldSyntax(random: Random, p: Part): void {
  const variants: ((p: Part) => void)[] = [
    (p) => addLine(p, "X-Space : before-colon", "\r\n", 1), // RFC 9112 §5.1: MUST reject
    (p) => addLine(p, "no colon here", "\r\n", 1),
    (p) => addLine(p, ": empty-name", "\r\n", 1),
    (p) => addLine(p, "X(y): not a token", "\r\n", 1),
    (p) => addLine(p, "X-Ctl: a\x01b", "\r\n", 1),
    (p) => addLine(p, "X-Del: a\x7fb", "\r\n", 1),
    (p) => addLine(p, "X-Long: " + "v".repeat(20_000), "\r\n", 1),
    (p) => addLine(p, "X-Utf8: caf\u00e9 \u2603", "\r\n", 1),
    (p) => addLine(p, "X_Underscore: 1", "\r\n", 1),
    (p) => addLine(p, "Host: second.test", "\r\n", 1),
    (p) => {
      const i = fieldIndex(p, "host");
      if (i > 0) {
        p.lines.splice(i, 1);
        p.endings.splice(i, 1);
      }
    },
    (p) => setField(p, "Host", ""),
    (p) => setField(p, "Host", "a b.test"),
    (p) => setField(p, "Host", "fuzz.test:99999"),
    (p) => setField(p, "Host", "[::1]:80"),
    (p) => setField(p, "Host", "fuzz.test, other.test"),
    (p) => addLine(p, " leading-space-line: x", "\r\n", 1), // obs-fold before any field: MUST reject
    (p) => addLine(p, "Connection: keep-alive, Upgrade", "\r\n", 1),
    (p) => addLine(p, "Upgrade: h2c", "\r\n", 1),
    (p) => addLine(p, "Max-Forwards: x", "\r\n", 1),
    (p) => addLine(p, "Max-Forwards: 0", "\r\n", 1),
    (p) => addLine(p, 'Content-Type: text/plain; charset="\x00"', "\r\n", 1),
  ];
  pick(random, variants)(p);
}

function mutateNul(random: Random, p: Part): void {
  const i = someField(random, p);
  const line = p.lines[i]!;
  const at = Math.max(line.indexOf(":") + 2, Math.floor(random() * line.length));
  p.lines[i] = line.slice(0, at) + "\x00" + line.slice(at);
  // A NUL in a field name or the request line is invalid; in a field value RFC 9110 §5.5 also allows
  // replacing it with SP, so only the former must be rejected.
  if (i === 0 || at <= line.indexOf(":")) p.mustReject = true;
}

function mutateBareLf(random: Random, p: Part): void {
  const variants: ((p: Part) => void)[] = [
    (p) => (p.endings[someField(random, p)] = "\n"),
    (p) => (p.endings = p.endings.map(() => "\n")),
    (p) => {
      p.endings = p.endings.map(() => "\n");
      p.headEnd = "\n";
    },
    (p) => (p.headEnd = "\n"),
    (p) => (p.endings[0] = "\n"),
  ];
  pick(random, variants)(p);
  // Issue 16 requires rejecting bare-LF heads (RFC 9112 §2.2 only allows accepting them).
  p.mustReject = true;
}

function mutateBareCr(random: Random, p: Part): void {
  const variants: ((p: Part) => void)[] = [
    (p) => (p.endings[someField(random, p)] = "\r"),
    (p) => {
      const i = someField(random, p);
      p.lines[i] = p.lines[i]! + "\rX-Injected: 1";
    },
    (p) => (p.endings[someField(random, p)] = "\r\r\n"),
  ];
  pick(random, variants)(p);
  p.mustReject = true; // RFC 9112 §2.2: a bare CR MUST be rejected or replaced; the guard rejects it
}

function mutateObsFold(random: Random, p: Part): void {
  const i = someField(random, p);
  addLine(p, pick(random, [" folded", "\tfolded", "  "]), "\r\n", i + 1);
}

function mutateHeaderCount(random: Random, p: Part): void {
  const count = pick(random, [99, 100, 101, 150, 250]);
  for (let n = 0; n < count; n++) addLine(p, `X-F${n}: ${n}`, "\r\n", 1);
}

function mutateContentLength(random: Random, p: Part): void {
  const n = p.body.length;
  const variants: [string[], boolean][] = [
    [[`${n}`, `${n}`], false], // identical duplicates: RFC 9110 §8.6 allows accepting them
    [[`${n}, ${n}`], false],
    [[`${n}`, `${n + 1}`], true],
    [[`${n}, ${n + 1}`], true],
    [[`+${n}`], true],
    [[`0${n}`], false],
    [[`${n} `], false],
    [[`0x${n.toString(16)}`], true],
    [[`-${n}`], true],
    [["99999999999999999999999"], true],
    [[`${n}.0`], true],
    [[""], true],
  ];
  const [values, reject] = pick(random, variants);
  const i = fieldIndex(p, "content-length");
  p.lines.splice(i, 1, ...values.map((v) => `Content-Length: ${v}`));
  p.endings.splice(i, 1, ...values.map(() => "\r\n"));
  p.mustReject = reject;
}

function mutateTransferEncoding(random: Random, p: Part): void {
  // [value, must reject]: a coding list must end in chunked (RFC 9112 §6.3); unknown codings get 501 or 400.
  const variants: [string, boolean][] = [
    ["Chunked", false],
    ["chunked ", false],
    ["chunked, chunked", true],
    ["gzip, chunked", false],
    ["chunked, gzip", true],
    ["identity", true],
    ["xchunked", true],
    ["chunked;q=1", true],
    ["", true],
    ['"chunked"', true],
  ];
  const [value, reject] = pick(random, variants);
  setField(p, "Transfer-Encoding", value);
  p.mustReject = reject;
  if (value.startsWith("gzip")) p.mustReject = false; // 501 or decoded: either answer is fine
}

function mutateClTe(random: Random, p: Part): void {
  const hasTe = fieldIndex(p, "transfer-encoding") >= 0;
  if (hasTe) {
    setField(p, "Content-Length", pick(random, ["0", "4", `${p.body.length}`, "9999"]));
  } else {
    // Body is CL-framed: add TE and re-frame as chunked so the TE reading is the valid one.
    const i = fieldIndex(p, "content-length");
    const data = p.body;
    p.body = chunked(data, [3]);
    if (i > 0) p.lines[i] = `Content-Length: ${pick(random, [data.length, p.body.length, 0])}`;
    addLine(p, "Transfer-Encoding: chunked");
  }
  p.mustClose = true; // RFC 9112 §6.1: reject, or process by TE and close after responding
}

/** Rewrites the first chunk-size line; false when the part has no chunked body. */
function rechunk(p: Part, map: (size: string) => string): boolean {
  const before = p.body;
  p.body = p.body.replace(/^([0-9a-f]+)\r\n/, (_m, size: string) => `${map(size)}\r\n`);
  return p.body !== before;
}

function mutateChunkSize(random: Random, p: Part): void {
  // [transform of the first chunk-size line, must reject]
  const variants: [(s: string) => string, boolean][] = [
    [(s) => s.toUpperCase(), false],
    [(s) => `000${s}`, false],
    [(s) => `ffffffffffffffff${s}`, true], // overflow must not wrap around to the small size
    [(s) => `1${"0".repeat(16)}${s}`, true],
    [(s) => `-${s}`, true],
    [(s) => `0x${s}`, true],
    [(s) => `${s}g`, true],
    [() => "", true],
  ];
  const [transform, reject] = pick(random, variants);
  if (rechunk(p, transform)) p.mustReject ||= reject;
}

/** Whitespace around the chunk size without an extension: not in the RFC 9112 §7.1 grammar. */
function mutateChunkSizeSpace(random: Random, p: Part): void {
  const space = pick(random, [" ", "\t", "  "]);
  const before = random() < 0.3;
  if (rechunk(p, (s) => before ? `${space}${s}` : `${s}${space}`)) p.mustReject = true;
}

function mutateChunkExt(random: Random, p: Part): void {
  const variants: [string, boolean][] = [
    [";ext", false],
    [";ext=value", false],
    [';ext="quoted value"', false],
    [" ;ext=v", false], // BWS before ';' (RFC 9112 §7.1.1)
    [";", true], // issue 16: `2;` must be rejected
    [";=v", true],
    [';ext="unterminated', true],
    [";ext\nX", true],
    [";ext\rX", true],
    [";ext=a b", true],
  ];
  const [ext, reject] = pick(random, variants);
  if (rechunk(p, (s) => `${s}${ext}`)) p.mustReject ||= reject;
}

function mutateTrailer(random: Random, p: Part): void {
  const variants: [string, boolean][] = [
    ["X-Trailer: 1\r\n", false],
    ["Content-Length: 5\r\n", false], // forbidden in trailers, but only to be ignored
    ["bad trailer\r\n", true],
    ["X-T: a\nX-U: b\r\n", true],
  ];
  const [trailer, reject] = pick(random, variants);
  p.body = p.body.replace(/0\r\n\r\n$/, `0\r\n${trailer}\r\n`);
  p.mustReject = reject;
}

function mutateExpect(random: Random, p: Part): void {
  const value = pick(random, ["100-continue", "100-Continue", "foo", "100-continue, foo", ""]);
  addLine(p, `Expect: ${value}`, "\r\n", 1);
}

function mutateByteFlip(random: Random, p: Part): void {
  const i = Math.floor(random() * p.lines.length);
  const line = p.lines[i]!;
  if (line.length === 0) return;
  const at = Math.floor(random() * line.length);
  // No bare LF or CR here: those are the bare_lf / bare_cr classes.
  const byte = pick(random, ["\x00", "\t", " ", ":", "\x0b", "\x0c", "\x1b", "\xff", "\u0100", "\r\n"]);
  p.lines[i] = line.slice(0, at) + byte + line.slice(at + 1);
  // A flip in the method makes it another method: a `HE\0D` answer has a body, unlike HEAD's.
  if (i === 0) p.method = p.lines[0]!.split(" ")[0]!;
}

function apply(random: Random, cls: MutationClass, parts: Part[], c: string, seed: string): void {
  const p = parts[Math.floor(random() * parts.length)]!;
  const chunkedPart = parts.find((q) => fieldIndex(q, "transfer-encoding") > 0) ?? p;
  switch (cls) {
    case "none":
    case "fragment":
      return;
    case "method":
      return mutateMethod(random, p);
    case "target":
      return mutateTarget(random, p, c);
    case "version":
      return mutateVersion(random, p);
    case "field_syntax":
      return mutateFieldSyntax(random, p);
    case "bare_lf":
      return mutateBareLf(random, p);
    case "bare_cr":
      return mutateBareCr(random, p);
    case "obs_fold":
      return mutateObsFold(random, p);
    case "nul":
      return mutateNul(random, p);
    case "header_count":
      return mutateHeaderCount(random, p);
    case "content_length":
      return mutateContentLength(random, parts.find((q) => fieldIndex(q, "content-length") > 0) ?? p);
    case "transfer_encoding":
      return mutateTransferEncoding(random, p);
    case "cl_te":
      return mutateClTe(random, parts.find((q) => q.body.length > 0) ?? p);
    case "chunk_size":
      return mutateChunkSize(random, chunkedPart);
    case "chunk_size_space":
      return mutateChunkSizeSpace(random, chunkedPart);
    case "chunk_ext":
      return mutateChunkExt(random, chunkedPart);
    case "trailer":
      return mutateTrailer(random, chunkedPart);
    case "expect":
      return mutateExpect(random, p);
    case "byte_flip":
      return mutateByteFlip(random, p);
    case "pipeline": {
      const last = parts[parts.length - 1]!;
      const i = fieldIndex(last, "connection");
      // Only the seed's own line: a mutated one (a bare CR in it, say) carries the case's defect.
      if (i > 0 && last.lines[i] === "Connection: close" && last.endings[i] === "\r\n") {
        last.lines.splice(i, 1);
        last.endings.splice(i, 1);
      }
      const next = SEEDS[seed === "get" ? "post_length" : "get"]!(c)[0]!;
      next.lines[0] = next.lines[0]!.replace("/r0", `/r${parts.length}`);
      parts.push(next);
      return;
    }
  }
}

/**
 * Case `index` of the run with `seed`. `excluded` classes are never chosen (see NEEDS_GUARD in the test).
 */
export function generateCase(seed: number, index: number, excluded: ReadonlySet<MutationClass>): FuzzCase {
  const random = prng(seed ^ Math.imul(index + 1, 0x9e3779b1));
  const c = `c${index}`;
  const seedName = SEED_NAMES[index % SEED_NAMES.length]!;
  const parts = SEEDS[seedName]!(c);
  const allowed = classesFor(seedName).filter((cls) => !excluded.has(cls));
  // The first round of cases are the seeds as written: they must all be forwarded.
  const count = index < SEED_NAMES.length ? 0 : 1 + Math.floor(random() * 2);
  const classes: MutationClass[] = [];
  for (let n = 0; n < count; n++) {
    const cls = pick(random, allowed);
    if (classes.includes(cls)) continue; // each class at most once: a later one must not undo an earlier one
    classes.push(cls);
    apply(random, cls, parts, c, seedName);
  }
  const fragments: number[] = [];
  if (classes.includes("fragment")) {
    for (let n = 0; n < 12; n++) fragments.push(1 + Math.floor(random() * 7));
  }
  return { index, seed: seedName, classes: classes.length ? classes : ["none"], parts, fragments };
}

/** The bytes of a case as written to the socket (code units above 0xff become UTF-8). */
export function caseBytes(fuzzCase: FuzzCase): Uint8Array {
  let text = "";
  for (const p of fuzzCase.parts) {
    for (let i = 0; i < p.lines.length; i++) text += p.lines[i]! + p.endings[i]!;
    text += p.headEnd + p.body;
  }
  const bytes: number[] = [];
  for (const ch of text) {
    const code = ch.codePointAt(0)!;
    if (code <= 0xff) bytes.push(code);
    else bytes.push(...new TextEncoder().encode(ch));
  }
  return new Uint8Array(bytes);
}
