import { type ConfigReader, readFailureReason } from "./config_reader.ts";
import type { ConfigPath } from "./yaml_source.ts";

export type PemKind = "CERTIFICATE" | "PRIVATE KEY";

/**
 * Reads a PEM file named in the config (path relative to the working directory), so a missing or wrong file
 * is a config error with its line:column, found by `--validate` too, rather than a failure at listen time.
 */
export function readPemFile(
  value: unknown,
  reader: ConfigReader,
  path: ConfigPath,
  kind: PemKind,
): string | undefined {
  const file = reader.string(value, path);
  if (file === undefined) {
    if (value === undefined || value === null) reader.fail(path, "is required (a PEM file path)");
    return undefined;
  }
  let text: string;
  try {
    text = Deno.readTextFileSync(file);
  } catch (error) {
    reader.fail(path, `cannot read ${JSON.stringify(file)}: ${readFailureReason(error)}`);
    return undefined;
  }
  // "PRIVATE KEY" also matches "RSA PRIVATE KEY" and "EC PRIVATE KEY".
  if (!new RegExp(`-----BEGIN [A-Z ]*${kind}-----`).test(text)) {
    reader.fail(path, `${JSON.stringify(file)} holds no PEM ${kind.toLowerCase()}`);
    return undefined;
  }
  return text;
}
