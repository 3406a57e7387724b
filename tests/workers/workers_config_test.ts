import assert from "node:assert/strict";
import { parseArgs, UsageError } from "../../src/cli.ts";
import { ConfigError } from "../../src/config/config_reader.ts";
import { parseConfig } from "../../src/config/load_config.ts";
import { diffConfig } from "../../src/lifecycle/config_diff.ts";
import { resolveWorkerCount } from "../../src/workers/control_plane.ts";

const BACKENDS = 'backends: ["http://127.0.0.1:1"]\n';

Deno.test("server.workers defaults to 1 and takes an integer or auto", () => {
  assert.equal(parseConfig(BACKENDS, "config.yaml").server.workers, 1);
  assert.equal(parseConfig(`server: { workers: 4 }\n${BACKENDS}`, "config.yaml").server.workers, 4);
  assert.equal(parseConfig(`server: { workers: auto }\n${BACKENDS}`, "config.yaml").server.workers, "auto");
});

Deno.test("server.workers rejects 0, fractions and words with file, line:col and key", () => {
  for (const bad of ["0", "1.5", "many", "300"]) {
    assert.throws(
      () => parseConfig(`server: { workers: ${bad} }\n${BACKENDS}`, "config.yaml"),
      (error: unknown) => {
        assert.ok(error instanceof ConfigError);
        assert.match(
          error.lines[0]!,
          /^config\.yaml:1:20 server\.workers: must be an integer from 1 to 256 or "auto"/,
        );
        return true;
      },
    );
  }
});

Deno.test("a changed server.workers is reported as needing a restart", () => {
  const before = parseConfig(`server: { workers: 2 }\n${BACKENDS}`, "config.yaml");
  const after = parseConfig(`server: { workers: 4 }\n${BACKENDS}`, "config.yaml");
  assert.deepEqual(diffConfig(before, after).restartRequired, ["server.workers"]);
});

Deno.test("--workers takes N or auto and overrides nothing when absent", () => {
  assert.equal(parseArgs([]).workers, undefined);
  assert.equal(parseArgs(["--workers", "3"]).workers, 3);
  assert.equal(parseArgs(["--workers=auto"]).workers, "auto");
  for (const bad of [["--workers"], ["--workers", "0"], ["--workers", "two"], ["--workers=1.5"]]) {
    assert.throws(() => parseArgs(bad), UsageError);
  }
});

Deno.test("workers auto resolves to the available cores", () => {
  assert.equal(resolveWorkerCount("auto"), navigator.hardwareConcurrency);
  assert.equal(resolveWorkerCount(3), 3);
});
