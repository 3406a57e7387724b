/**
 * Structured Field Dictionary parsing (RFC 9651 §4.2.2), as targeted cache-control fields use it
 * (RFC 9213 §2.1). Pure: a string in, a Map out, or undefined when the syntax is invalid anywhere (§4.2:
 * "fail parsing" means the whole field is ignored). Keys are case-sensitive lower case (§3.1.2).
 */

export type BareItem =
  | { readonly type: "integer" | "decimal"; readonly value: number }
  | { readonly type: "string" | "token" | "binary" | "displaystring"; readonly value: string }
  | { readonly type: "boolean"; readonly value: boolean }
  | { readonly type: "date"; readonly value: number };

export type Parameters = ReadonlyMap<string, BareItem>;
export type Item = { readonly item: BareItem; readonly params: Parameters };
export type Member = Item | { readonly inner: readonly Item[]; readonly params: Parameters };
export type Dictionary = ReadonlyMap<string, Member>;

class Fail extends Error {}

const TCHAR = /[!#$%&'*+\-.^_`|~0-9A-Za-z:/]/;
const KEY_FIRST = /[a-z*]/;
const KEY_CHAR = /[a-z0-9_\-.*]/;

class Parser {
  i = 0;
  constructor(readonly s: string) {}
  peek(): string | undefined {
    return this.s[this.i];
  }
  sp(): void {
    while (this.s[this.i] === " ") this.i++;
  }
  ows(): void {
    while (this.s[this.i] === " " || this.s[this.i] === "\t") this.i++;
  }
  key(): string {
    const start = this.i;
    if (!KEY_FIRST.test(this.s[this.i] ?? "")) throw new Fail();
    this.i++;
    while (this.i < this.s.length && KEY_CHAR.test(this.s[this.i]!)) this.i++;
    return this.s.slice(start, this.i);
  }
  params(): Parameters {
    const out = new Map<string, BareItem>();
    while (this.peek() === ";") {
      this.i++;
      this.sp();
      const key = this.key();
      let value: BareItem = { type: "boolean", value: true };
      if (this.peek() === "=") {
        this.i++;
        value = this.bare();
      }
      out.set(key, value);
    }
    return out;
  }
  item(): Item {
    const item = this.bare();
    return { item, params: this.params() };
  }
  member(): Member {
    if (this.peek() !== "(") return this.item();
    this.i++;
    const inner: Item[] = [];
    while (this.i < this.s.length) {
      this.sp();
      if (this.peek() === ")") {
        this.i++;
        return { inner, params: this.params() };
      }
      inner.push(this.item());
      const c = this.peek();
      if (c !== " " && c !== ")") throw new Fail();
    }
    throw new Fail();
  }
  bare(): BareItem {
    const c = this.peek();
    if (c === undefined) throw new Fail();
    if (c === "-" || (c >= "0" && c <= "9")) return this.number();
    if (c === '"') return { type: "string", value: this.string() };
    if (c === "*" || /[A-Za-z]/.test(c)) {
      const start = this.i++;
      while (this.i < this.s.length && TCHAR.test(this.s[this.i]!)) this.i++;
      return { type: "token", value: this.s.slice(start, this.i) };
    }
    if (c === ":") {
      const end = this.s.indexOf(":", this.i + 1);
      if (end < 0) throw new Fail();
      const value = this.s.slice(this.i + 1, end);
      if (!/^[A-Za-z0-9+/=]*$/.test(value)) throw new Fail();
      this.i = end + 1;
      return { type: "binary", value };
    }
    if (c === "?") {
      const d = this.s[this.i + 1];
      if (d !== "0" && d !== "1") throw new Fail();
      this.i += 2;
      return { type: "boolean", value: d === "1" };
    }
    if (c === "@") {
      this.i++;
      const n = this.number();
      if (n.type !== "integer") throw new Fail();
      return { type: "date", value: n.value };
    }
    if (c === "%") {
      this.i++;
      if (this.peek() !== '"') throw new Fail();
      return { type: "displaystring", value: this.display() };
    }
    throw new Fail();
  }
  number(): BareItem {
    const m = /^-?(\d+)(\.(\d*))?/.exec(this.s.slice(this.i, this.i + 20));
    if (!m) throw new Fail();
    const intDigits = m[1]!.length;
    if (m[2] === undefined) {
      if (intDigits > 15) throw new Fail();
      this.i += m[0].length;
      return { type: "integer", value: Number(m[0]) };
    }
    const frac = m[3]!.length;
    if (intDigits > 12 || frac === 0 || frac > 3) throw new Fail();
    this.i += m[0].length;
    return { type: "decimal", value: Number(m[0]) };
  }
  string(): string {
    this.i++;
    let out = "";
    while (this.i < this.s.length) {
      const c = this.s[this.i++]!;
      if (c === "\\") {
        const next = this.s[this.i++];
        if (next !== '"' && next !== "\\") throw new Fail();
        out += next;
      } else if (c === '"') return out;
      else if (c < " " || c > "~") throw new Fail();
      else out += c;
    }
    throw new Fail();
  }
  display(): string {
    this.i++;
    const bytes: number[] = [];
    while (this.i < this.s.length) {
      const c = this.s[this.i++]!;
      if (c === "%") {
        const hex = this.s.slice(this.i, this.i + 2);
        if (!/^[0-9a-f]{2}$/.test(hex)) throw new Fail();
        bytes.push(parseInt(hex, 16));
        this.i += 2;
      } else if (c === '"') {
        try {
          return new TextDecoder("utf-8", { fatal: true }).decode(new Uint8Array(bytes));
        } catch {
          throw new Fail();
        }
      } else if (c < " " || c > "~") throw new Fail();
      else bytes.push(c.charCodeAt(0));
    }
    throw new Fail();
  }
}

/** Parses a Dictionary field value; undefined when it is not valid RFC 9651 syntax. */
export function parseDictionary(value: string): Dictionary | undefined {
  const p = new Parser(value);
  const out = new Map<string, Member>();
  try {
    p.sp();
    while (p.i < value.length) {
      const key = p.key();
      let member: Member;
      if (p.peek() === "=") {
        p.i++;
        member = p.member();
      } else {
        member = { item: { type: "boolean", value: true }, params: p.params() };
      }
      out.set(key, member); // §4.2.2: a repeated key overwrites the earlier value
      p.ows();
      if (p.i >= value.length) return out;
      if (value[p.i] !== ",") return undefined;
      p.i++;
      p.ows();
      if (p.i >= value.length) return undefined; // trailing comma
    }
    return out;
  } catch (error) {
    if (error instanceof Fail) return undefined;
    throw error;
  }
}
