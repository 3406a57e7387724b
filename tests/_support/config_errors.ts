import assert from "node:assert/strict";
import { ConfigError } from "../../src/config/config_reader.ts";
import { parseConfig } from "../../src/config/load_config.ts";

/** The lines of the ConfigError that `yaml` (named `config.yaml` in messages) produces; fails if it is accepted. */
export function configErrorsOf(yaml: string): string[] {
  try {
    parseConfig(yaml, "config.yaml");
  } catch (error) {
    assert.ok(error instanceof ConfigError, `expected ConfigError, got ${error}`);
    return [...error.lines];
  }
  assert.fail("config was accepted");
}
