/**
 * IPv4/IPv6 addresses and CIDR blocks as 128-bit numbers (IPv4 mapped into ::ffff:0:0/96), so one
 * comparison handles both families and `::ffff:10.0.0.1` matches `10.0.0.0/8`.
 */

const V4_MAPPED = 0xffffn << 32n;

/** Parses an IPv4 or IPv6 address (brackets and zone ids allowed) into a 128-bit bigint, or undefined. */
export function parseIp(text: string): bigint | undefined {
  let s = text.trim();
  if (s.startsWith("[") && s.endsWith("]")) s = s.slice(1, -1);
  const zone = s.indexOf("%");
  if (zone >= 0) s = s.slice(0, zone);
  if (s.includes(":")) return parseIpv6(s);
  const v4 = parseIpv4(s);
  return v4 === undefined ? undefined : V4_MAPPED | v4;
}

function parseIpv4(s: string): bigint | undefined {
  const parts = s.split(".");
  if (parts.length !== 4) return undefined;
  let n = 0n;
  for (const part of parts) {
    if (!/^\d{1,3}$/.test(part)) return undefined;
    const octet = Number(part);
    if (octet > 255) return undefined;
    n = (n << 8n) | BigInt(octet);
  }
  return n;
}

function parseIpv6(s: string): bigint | undefined {
  let tail: bigint | undefined;
  let text = s;
  const lastColon = s.lastIndexOf(":");
  if (s.slice(lastColon + 1).includes(".")) {
    tail = parseIpv4(s.slice(lastColon + 1));
    if (tail === undefined) return undefined;
    text = `${s.slice(0, lastColon + 1)}0:0`;
  }
  const halves = text.split("::");
  if (halves.length > 2) return undefined;
  const head = halves[0] ? halves[0].split(":") : [];
  const rest = halves.length === 2 && halves[1] ? halves[1].split(":") : [];
  const missing = 8 - head.length - rest.length;
  if (halves.length === 1 ? missing !== 0 : missing < 1) return undefined;
  const groups = [...head, ...Array<string>(halves.length === 2 ? missing : 0).fill("0"), ...rest];
  let n = 0n;
  for (const group of groups) {
    if (!/^[0-9a-f]{1,4}$/i.test(group)) return undefined;
    n = (n << 16n) | BigInt(parseInt(group, 16));
  }
  if (tail !== undefined) n = (n & ~0xffffffffn) | tail;
  return n;
}

interface Block {
  readonly base: bigint;
  readonly mask: bigint;
}

function parseCidr(text: string): Block | undefined {
  const [addr, bits, extra] = text.trim().split("/");
  if (addr === undefined || extra !== undefined) return undefined;
  const ip = parseIp(addr);
  if (ip === undefined) return undefined;
  const isV4 = !addr.includes(":");
  const width = isV4 ? 32 : 128;
  let prefix = width;
  if (bits !== undefined) {
    if (!/^\d{1,3}$/.test(bits) || Number(bits) > width) return undefined;
    prefix = Number(bits);
  }
  const hostBits = BigInt(width - prefix);
  const mask = ((1n << 128n) - 1n) ^ ((1n << hostBits) - 1n);
  return { base: ip & mask, mask };
}

export function isValidCidr(text: string): boolean {
  return parseCidr(text) !== undefined;
}

/** A fixed set of CIDR blocks; `contains` answers for one address string. */
export class CidrSet {
  readonly #blocks: readonly Block[];

  constructor(cidrs: readonly string[]) {
    this.#blocks = cidrs.map((cidr) => {
      const block = parseCidr(cidr);
      if (!block) throw new TypeError(`Not an IP address or CIDR: ${cidr}`);
      return block;
    });
  }

  get size(): number {
    return this.#blocks.length;
  }

  contains(address: string): boolean {
    if (this.#blocks.length === 0) return false;
    const ip = parseIp(address);
    if (ip === undefined) return false;
    return this.#blocks.some((block) => (ip & block.mask) === block.base);
  }
}
