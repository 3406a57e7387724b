/**
 * Who is the client? Pure helpers: IP and CIDR parsing, the trusted-proxy walk over
 * `X-Forwarded-For` / `Forwarded` (RFC 7239), and the rate-limit key derived from the answer.
 *
 * Addresses are handled as 16 bytes; IPv4 is stored IPv4-mapped (`::ffff:a.b.c.d`, RFC 4291
 * §2.5.5.2) so one matcher covers both families and a peer reported as `::ffff:10.0.0.1` is the
 * same host as `10.0.0.1`.
 */

/** Parses an IPv4 or IPv6 literal (no zone, no port, no brackets); undefined if invalid. */
export function parseIp(text: string): Uint8Array | undefined {
  return text.includes(":") ? parseIpv6(text) : mapIpv4(parseIpv4(text));
}

/** Canonical text: dotted quad for IPv4 and IPv4-mapped, RFC 5952 form for IPv6. */
export function formatIp(bytes: Uint8Array): string {
  if (isIpv4Mapped(bytes)) return `${bytes[12]}.${bytes[13]}.${bytes[14]}.${bytes[15]}`;
  const groups: number[] = [];
  for (let i = 0; i < 16; i += 2) groups.push((bytes[i]! << 8) | bytes[i + 1]!);
  // RFC 5952 §4.2: compress the longest run (≥ 2) of zero groups, the first one on ties.
  let bestAt = -1, bestLen = 1;
  for (let i = 0; i < 8;) {
    if (groups[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && groups[j] === 0) j++;
    if (j - i > bestLen) [bestAt, bestLen] = [i, j - i];
    i = j;
  }
  const hex = groups.map((g) => g.toString(16));
  if (bestAt < 0) return hex.join(":");
  return `${hex.slice(0, bestAt).join(":")}::${hex.slice(bestAt + bestLen).join(":")}`;
}

/** Canonical form of an address literal, or undefined if it is not one. */
export function normalizeIp(text: string): string | undefined {
  const bytes = parseIp(text);
  return bytes && formatIp(bytes);
}

export function isIpv4Mapped(bytes: Uint8Array): boolean {
  for (let i = 0; i < 10; i++) if (bytes[i] !== 0) return false;
  return bytes[10] === 0xff && bytes[11] === 0xff;
}

/** Dotted quad to four octets by hand: the regex-and-split version cost ~1 µs per request. */
function parseIpv4(text: string): number[] | undefined {
  const out: number[] = [];
  let value = 0, digits = 0;
  for (let i = 0; i <= text.length; i++) {
    const c = i < text.length ? text.charCodeAt(i) : 46; // treat the end as a final "."
    if (c === 46) {
      if (digits === 0 || out.length === 4) return undefined;
      out.push(value);
      value = 0;
      digits = 0;
    } else if (c >= 48 && c <= 57) {
      // Leading zeros are refused: "010" is octal to some parsers and decimal to others.
      if (digits > 0 && value === 0) return undefined;
      value = value * 10 + (c - 48);
      if (value > 255) return undefined;
      digits++;
    } else {
      return undefined;
    }
  }
  return out.length === 4 ? out : undefined;
}

function mapIpv4(octets: number[] | undefined): Uint8Array | undefined {
  if (!octets) return undefined;
  const bytes = new Uint8Array(16);
  bytes[10] = 0xff;
  bytes[11] = 0xff;
  bytes[12] = octets[0]!;
  bytes[13] = octets[1]!;
  bytes[14] = octets[2]!;
  bytes[15] = octets[3]!;
  return bytes;
}

function parseIpv6(text: string): Uint8Array | undefined {
  const halves = text.split("::");
  if (halves.length > 2) return undefined;
  const parseGroups = (part: string): number[] | undefined => {
    if (part === "") return [];
    const out: number[] = [];
    const pieces = part.split(":");
    for (let i = 0; i < pieces.length; i++) {
      const piece = pieces[i]!;
      if (i === pieces.length - 1 && piece.includes(".")) {
        const v4 = parseIpv4(piece);
        if (!v4) return undefined;
        out.push((v4[0]! << 8) | v4[1]!, (v4[2]! << 8) | v4[3]!);
      } else {
        if (!/^[0-9a-fA-F]{1,4}$/.test(piece)) return undefined;
        out.push(parseInt(piece, 16));
      }
    }
    return out;
  };
  const head = parseGroups(halves[0]!);
  const tail = halves.length === 2 ? parseGroups(halves[1]!) : [];
  if (!head || !tail) return undefined;
  const total = head.length + tail.length;
  if (halves.length === 2 ? total > 7 : total !== 8) return undefined;
  const groups = [...head, ...new Array<number>(8 - total).fill(0), ...tail];
  const bytes = new Uint8Array(16);
  groups.forEach((g, i) => {
    bytes[i * 2] = g >> 8;
    bytes[i * 2 + 1] = g & 0xff;
  });
  return bytes;
}

/** A parsed CIDR block; IPv4 blocks are kept as IPv4-mapped /96+n. */
export interface Cidr {
  readonly bytes: Uint8Array;
  /** Prefix length in the 128-bit space. */
  readonly prefix: number;
}

/** Parses "10.0.0.0/8", "2001:db8::/32" or a bare address (a /32 or /128); TypeError if invalid. */
export function parseCidr(text: string): Cidr {
  const [addr = "", len, extra] = text.trim().split("/");
  const bytes = parseIp(addr);
  const v4 = !addr.includes(":");
  const max = v4 ? 32 : 128;
  const n = len === undefined ? max : /^[0-9]{1,3}$/.test(len) ? Number(len) : NaN;
  if (!bytes || extra !== undefined || !(n >= 0 && n <= max)) {
    throw new TypeError(`Invalid CIDR block: "${text}"`);
  }
  return { bytes, prefix: v4 ? n + 96 : n };
}

/** Whether `address` (16 bytes) lies inside `block`. */
export function cidrContains(block: Cidr, address: Uint8Array): boolean {
  let bits = block.prefix;
  for (let i = 0; bits > 0; i++, bits -= 8) {
    const mask = bits >= 8 ? 0xff : (0xff << (8 - bits)) & 0xff;
    if ((block.bytes[i]! & mask) !== (address[i]! & mask)) return false;
  }
  return true;
}

/** Named groups accepted alongside CIDR blocks in `trusted_proxies`. */
const NAMED_BLOCKS: Readonly<Record<string, readonly string[]>> = {
  loopback: ["127.0.0.0/8", "::1/128"],
  private: ["10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "fc00::/7"],
};

/** The set of proxies whose forwarding headers we believe. */
export class TrustedProxies {
  readonly #blocks: readonly Cidr[];
  /** The blocks as seen by IPv4 addresses: [base, mask] pairs of unsigned 32-bit numbers. */
  readonly #v4: Uint32Array;

  /** `blocks`: CIDR strings, bare addresses, or the names "loopback" and "private". */
  constructor(blocks: readonly string[]) {
    if (!Array.isArray(blocks)) throw new TypeError("trusted proxies must be an array of CIDR strings");
    this.#blocks = blocks.flatMap((b) => NAMED_BLOCKS[b] ?? [b]).map(parseCidr);
    const v4: number[] = [];
    for (const block of this.#blocks) {
      if (block.prefix >= 96 && isIpv4Mapped(block.bytes)) {
        const bits = block.prefix - 96;
        const mask = bits === 0 ? 0 : (0xffffffff << (32 - bits)) >>> 0;
        v4.push((uint32At(block.bytes, 12) & mask) >>> 0, mask);
      } else if (block.prefix <= 96 && cidrContains(block, V4_MAPPED_ZERO)) {
        v4.push(0, 0); // e.g. ::/0 covers every IPv4 address
      }
    }
    this.#v4 = new Uint32Array(v4);
  }

  /**
   * Whether an address (text or bytes) belongs to a trusted proxy; false for non-addresses.
   * Runs on every request (the socket peer), so dotted quads take an allocation-free path.
   */
  contains(address: string | Uint8Array): boolean {
    if (this.#blocks.length === 0) return false;
    if (typeof address === "string" && !address.includes(":")) {
      const ip = parseIpv4Uint32(address);
      if (ip < 0) return false;
      const v4 = this.#v4;
      for (let i = 0; i < v4.length; i += 2) if (((ip & v4[i + 1]!) >>> 0) === v4[i]) return true;
      return false;
    }
    const bytes = typeof address === "string" ? parseIp(address) : address;
    return bytes !== undefined && this.#blocks.some((b) => cidrContains(b, bytes));
  }

  get size(): number {
    return this.#blocks.length;
  }
}

const V4_MAPPED_ZERO = mapIpv4([0, 0, 0, 0])!;

function uint32At(bytes: Uint8Array, at: number): number {
  return ((bytes[at]! << 24) | (bytes[at + 1]! << 16) | (bytes[at + 2]! << 8) | bytes[at + 3]!) >>> 0;
}

/** Same rules as parseIpv4 (no leading zeros), as one unsigned number; -1 if invalid. */
export function parseIpv4Uint32(text: string): number {
  let result = 0, value = 0, digits = 0, parts = 0;
  for (let i = 0; i <= text.length; i++) {
    const c = i < text.length ? text.charCodeAt(i) : 46;
    if (c === 46) {
      if (digits === 0 || parts === 4) return -1;
      result = result * 256 + value;
      parts++;
      value = 0;
      digits = 0;
    } else if (c >= 48 && c <= 57) {
      if (digits > 0 && value === 0) return -1;
      value = value * 10 + (c - 48);
      if (value > 255) return -1;
      digits++;
    } else {
      return -1;
    }
  }
  return parts === 4 ? result : -1;
}

/** Which forwarding header the trusted proxies write. */
export type ForwardedHeaderKind = "x-forwarded-for" | "forwarded";

/** Inputs of {@link clientAddress}. */
export interface ClientAddressInput {
  /** Address of the TCP peer (e.g. `info.remoteAddr.hostname`). */
  readonly peer: string;
  /** Combined `X-Forwarded-For` value (`Headers.get` joins repeated fields with ", "). */
  readonly xForwardedFor?: string | null;
  /** Combined `Forwarded` value (RFC 7239). */
  readonly forwarded?: string | null;
  readonly trusted: TrustedProxies;
  /**
   * The one header to read. Only the header our proxies write may be read: the other passes
   * through them untouched, so whatever a client put there would be believed. Default
   * "x-forwarded-for".
   */
  readonly header?: ForwardedHeaderKind;
}

/**
 * The client's address: the peer itself unless the peer is a trusted proxy, in which case the
 * rightmost address in the forwarding chain that is not a trusted proxy. Walking from the
 * right matters: entries left of the first untrusted hop were written by the client and can
 * be forged. An entry that is not an address ("unknown", an obfuscated identifier, garbage)
 * stops the walk at the trusted hop that reported it. Returns canonical text.
 */
export function clientAddress(input: ClientAddressInput): string {
  const { peer, trusted, header = "x-forwarded-for" } = input;
  const peerBytes = parseIp(stripPort(peer));
  if (!peerBytes) return peer;
  let candidate = formatIp(peerBytes);
  if (!trusted.contains(peerBytes)) return candidate;
  const chain = header === "forwarded"
    ? parseForwardedFor(input.forwarded ?? "")
    : (input.xForwardedFor ?? "").split(",").map((s) => s.trim()).filter((s) => s !== "");
  for (let i = chain.length - 1; i >= 0; i--) {
    const bytes = parseIp(stripPort(chain[i]!));
    if (!bytes) return candidate;
    candidate = formatIp(bytes);
    if (!trusted.contains(bytes)) return candidate;
  }
  return candidate;
}

/** Strips "[v6]:port", "[v6]" and "v4:port" down to the address. */
function stripPort(node: string): string {
  if (node.startsWith("[")) {
    const end = node.indexOf("]");
    return end > 0 ? node.slice(1, end) : node;
  }
  const colon = node.indexOf(":");
  if (colon > 0 && colon === node.lastIndexOf(":") && node.includes(".")) return node.slice(0, colon);
  return node;
}

/**
 * The `for=` values of a Forwarded field in order, unquoted (RFC 7239 §4: elements separated by
 * ",", pairs by ";", values are tokens or quoted-strings; §5.2 the parameter name is
 * case-insensitive). An element without `for=` yields "" so it still counts as a hop.
 */
export function parseForwardedFor(value: string): string[] {
  const out: string[] = [];
  let i = 0;
  const n = value.length;
  while (i < n) {
    let forValue = "";
    // One element: pairs until "," outside quotes.
    while (i < n && value[i] !== ",") {
      while (i < n && (value[i] === " " || value[i] === "\t" || value[i] === ";")) i++;
      const eq = value.indexOf("=", i);
      const stop = nextDelimiter(value, i);
      if (eq < 0 || eq > stop) {
        i = stop;
        continue;
      }
      const name = value.slice(i, eq).trim().toLowerCase();
      i = eq + 1;
      let v = "";
      if (value[i] === '"') {
        i++;
        while (i < n && value[i] !== '"') {
          if (value[i] === "\\" && i + 1 < n) i++;
          v += value[i++];
        }
        i++;
      } else {
        const end = nextDelimiter(value, i);
        v = value.slice(i, end).trim();
        i = end;
      }
      if (name === "for") forValue = v;
      while (i < n && value[i] !== ";" && value[i] !== ",") i++;
    }
    out.push(forValue);
    i++;
  }
  return out;
}

function nextDelimiter(value: string, from: number): number {
  for (let i = from; i < value.length; i++) if (value[i] === ";" || value[i] === ",") return i;
  return value.length;
}
