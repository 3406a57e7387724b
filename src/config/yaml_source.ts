// @ts-types="@types/js-yaml"
import yaml from "js-yaml";

/** A key path into the config document: `["backends", 1, "url"]`. */
export type ConfigPath = readonly (string | number)[];

export interface SourcePosition {
  readonly line: number;
  readonly column: number;
}

/** Formats a key path the way users write it: `backends[1].url`. */
export function formatPath(path: ConfigPath): string {
  let out = "";
  for (const part of path) {
    out += typeof part === "number" ? `[${part}]` : out === "" ? part : `.${part}`;
  }
  return out;
}

/** Raised when the text is not YAML at all; carries the parser's position. */
export class YamlSyntaxError extends Error {
  constructor(readonly position: SourcePosition, readonly reason: string) {
    super(reason);
    this.name = "YamlSyntaxError";
  }
}

interface NodeMark {
  start: number;
  result: unknown;
  children: NodeMark[];
}

/**
 * Parsed YAML plus where each value (and each mapping key) stands in the text, so validation errors can name
 * `file:line:column`. js-yaml has no position API, but its `listener` reports every node's open and close in
 * document order; nesting those events gives a tree that mirrors the parsed value.
 */
export class YamlSource {
  readonly value: unknown;
  readonly #text: string;
  readonly #lineStarts: number[] = [0];
  readonly #valueAt = new Map<string, number>();
  readonly #keyAt = new Map<string, number>();

  constructor(text: string) {
    this.#text = text;
    for (let i = 0; i < text.length; i++) if (text.charCodeAt(i) === 10) this.#lineStarts.push(i + 1);
    const stack: NodeMark[] = [{ start: 0, result: undefined, children: [] }];
    try {
      this.value = yaml.load(text, {
        schema: yaml.CORE_SCHEMA,
        listener(event, state) {
          if (event === "open") {
            stack.push({ start: state.position, result: undefined, children: [] });
          } else {
            const node = stack.pop()!;
            node.result = state.result;
            stack.at(-1)?.children.push(node);
          }
        },
      });
    } catch (error) {
      if (error instanceof yaml.YAMLException) {
        const mark = error.mark;
        throw new YamlSyntaxError({ line: mark.line + 1, column: mark.column + 1 }, error.reason);
      }
      throw error;
    }
    const root = stack[0]!.children.at(-1);
    if (root) this.#index(root, []);
  }

  /** Position of the value at `path`; falls back to the nearest ancestor that has one. */
  positionOf(path: ConfigPath, which: "value" | "key" = "value"): SourcePosition | undefined {
    const map = which === "key" ? this.#keyAt : this.#valueAt;
    for (let n = path.length; n >= 0; n--) {
      const key = formatPath(path.slice(0, n));
      const offset = (n === path.length ? map : this.#valueAt).get(key);
      if (offset !== undefined) return this.#toPosition(offset);
    }
    return undefined;
  }

  #index(node: NodeMark, path: ConfigPath): void {
    const key = formatPath(path);
    this.#valueAt.set(key, this.#skipBlank(node.start));
    const { result, children } = node;
    if (Array.isArray(result)) {
      if (children.length !== result.length) return;
      children.forEach((child, i) => this.#index(child, [...path, i]));
    } else if (result !== null && typeof result === "object") {
      if (children.length % 2 !== 0) return;
      for (let i = 0; i < children.length; i += 2) {
        const keyNode = children[i]!;
        const childPath = [...path, String(keyNode.result)];
        this.#keyAt.set(formatPath(childPath), this.#skipBlank(keyNode.start));
        this.#index(children[i + 1]!, childPath);
      }
    }
  }

  /** The listener reports a node's position before separation space and comments; step over them. */
  #skipBlank(offset: number): number {
    const text = this.#text;
    let i = offset;
    while (i < text.length) {
      const ch = text[i];
      if (ch === " " || ch === "\t" || ch === "\n" || ch === "\r") i++;
      else if (ch === "#") { while (i < text.length && text[i] !== "\n") i++; }
      else break;
    }
    return i;
  }

  #toPosition(offset: number): SourcePosition {
    const starts = this.#lineStarts;
    let lo = 0, hi = starts.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (starts[mid]! <= offset) lo = mid;
      else hi = mid - 1;
    }
    return { line: lo + 1, column: offset - starts[lo]! + 1 };
  }
}
