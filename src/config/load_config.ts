import { ConfigError, ConfigReader, readFailureReason } from "./config_reader.ts";
import type { Config } from "./types.ts";
import { validateConfig } from "./validate_config.ts";
import { YamlSource, YamlSyntaxError } from "./yaml_source.ts";

/**
 * Parses and validates config text. `file` names the source in messages. Throws `ConfigError` listing every
 * problem as `file:line:col key.path: message`; never returns a partially valid config.
 */
export function parseConfig(text: string, file: string): Config {
  let source: YamlSource;
  try {
    source = new YamlSource(text);
  } catch (error) {
    if (error instanceof YamlSyntaxError) {
      throw new ConfigError(file, [
        `${file}:${error.position.line}:${error.position.column} ${error.reason}`,
      ]);
    }
    throw error;
  }
  const reader = new ConfigReader();
  const config = validateConfig(source.value, reader, file);
  if (reader.issues.length > 0) throw new ConfigError(file, reader.format(file, source));
  return config;
}

/** Reads and parses a config file (needs --allow-read for that path). */
export async function loadConfigFile(path: string): Promise<Config> {
  let text: string;
  try {
    text = await Deno.readTextFile(path);
  } catch (error) {
    throw new ConfigError(path, [`${path}: cannot read config: ${readFailureReason(error)}`]);
  }
  return parseConfig(text, path);
}
