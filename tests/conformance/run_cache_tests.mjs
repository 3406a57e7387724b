// Runs the http-cache-tests suite (npm http-cache-tests@0.4.5, unpacked, unpatched) against a proxy and
// writes per-test results as JSON. The origin is started here on 127.0.0.1 from the suite's own handlers,
// because the suite's server/server.mjs listens on every interface and writes a pidfile.
//
//   node tests/conformance/run_cache_tests.mjs --suite /tmp/hct/package --base http://127.0.0.1:8080 \
//     [--origin-port 8000] [--out cache-tests.json] [--id freshness-max-age] [--fail-on-required]
//
// The proxy under test must forward http://127.0.0.1:<base port>/ to http://127.0.0.1:<origin-port>/.
import http from "node:http";
import { writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { pathToFileURL } from "node:url";
import { parseArgs } from "node:util";

const { values } = parseArgs({
  options: {
    suite: { type: "string" },
    base: { type: "string" },
    "origin-port": { type: "string", default: "8000" },
    out: { type: "string" },
    id: { type: "string" },
    "fail-on-required": { type: "boolean", default: false },
    dump: { type: "boolean", default: false },
  },
});
if (!values.suite || !values.base) {
  console.error(
    "usage: run_cache_tests.mjs --suite <unpacked package dir> --base <proxy URL> [--origin-port N]",
  );
  process.exit(2);
}
const load = (file) => import(pathToFileURL(`${values.suite}/${file}`).href);
const [handleConfig, handleFile, handleState, handleTest] = await Promise.all(
  ["config", "file", "state", "test"].map(async (name) => (await load(`server/handle-${name}.mjs`)).default),
);
const suites = (await load("tests/index.mjs")).default;
suites.push((await load("tests/surrogate-control.mjs")).default);
const { runTests, getResults } = await load("client/runner.mjs");
// The suite's own client uses node-fetch@2 (its declared dependency). Node's built-in fetch follows the Fetch
// standard's HTTP-cache rules instead: a request with If-None-Match/If-Modified-Since gets
// `Cache-Control: no-cache` and `Pragma: no-cache` added, which turns every "cache answers the conditional
// request" test into a forced revalidation. So use node-fetch when it is installed next to the suite.
let clientFetch = globalThis.fetch;
try {
  clientFetch = createRequire(pathToFileURL(`${values.suite}/package.json`))("node-fetch");
} catch {
  console.error("node-fetch not found next to the suite: using Node's fetch (conditional tests will fail)");
}

const originPort = Number(values["origin-port"]);
// Same dispatch as the suite's server/server.mjs handleMain.
const origin = http.createServer((request, response) => {
  const url = new URL(request.url, `http://127.0.0.1:${originPort}/`);
  const segments = url.pathname.split("/");
  segments.shift();
  const dispatch = segments.shift();
  if (dispatch === "config") handleConfig(segments, request, response);
  else if (dispatch === "test") handleTest(segments, request, response);
  else if (dispatch === "state") handleState(segments, request, response);
  else handleFile(url, request, response);
});
await new Promise((resolve) => origin.listen(originPort, "127.0.0.1", resolve));

// The suite logs every origin request; keep stdout for our summary.
const log = console.log;
if (!values.dump) console.log = () => {};
let selected = suites;
if (values.id) {
  selected = suites.map((s) => ({
    ...s,
    tests: s.tests.filter((t) => t.id === values.id).map((t) => ({ ...t, dump: values.dump })),
  }))
    .filter((s) => s.tests.length > 0);
}
try {
  await runTests(selected, clientFetch, false, values.base.replace(/\/$/, ""));
} finally {
  console.log = log;
  origin.close();
  origin.closeAllConnections?.();
}

const raw = getResults();
const results = {};
const counts = {};
let requiredFailures = 0;
for (const suite of selected) {
  for (const test of suite.tests) {
    if (test.browser_only) continue;
    const kind = test.kind ?? "required";
    const r = raw[test.id];
    const outcome = r === undefined
      ? "untested"
      : r === true
      ? "pass"
      : r[0] === "Setup"
      ? "setup-fail"
      : "fail";
    if (kind === "required" && outcome === "fail") requiredFailures++;
    results[test.id] = {
      suite: suite.id,
      kind,
      outcome,
      detail: r === true || r === undefined ? null : r[1],
    };
    const bucket = `${kind}:${outcome}`;
    counts[bucket] = (counts[bucket] ?? 0) + 1;
  }
}
const json = JSON.stringify({ base: values.base, counts, results }, null, 2);
if (values.out) writeFileSync(values.out, json);
else log(json);
log(JSON.stringify(counts));
process.exit(values["fail-on-required"] && requiredFailures > 0 ? 1 : 0);
