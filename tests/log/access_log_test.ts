import assert from "node:assert/strict";
import { commonLine, jsonLine } from "../../src/log/access_log_line.ts";
import { startProxy } from "../_support/proxy.ts";
import { startUpstream } from "../_support/upstream.ts";

function sink() {
  const lines: string[] = [];
  return { lines, write: (line: string) => void lines.push(line) };
}

Deno.test("access_log json writes one JSON line per request with route, upstream, status and size", async () => {
  await using upstream = startUpstream(() => new Response("hello", { headers: { "content-length": "5" } }));
  const log = sink();
  await using proxy = startProxy(
    `upstreams: { api: { backends: ["${upstream.url}"] } }
routes: [{ name: api, match: { path_prefix: /api }, upstream: api }]
access_log: { format: json }`,
    { accessLog: log },
  );
  const response = await fetch(`${proxy.url}/api/x?y=1`, { method: "PUT", body: "b" });
  await response.text();
  const missing = await fetch(`${proxy.url}/other`);
  await missing.text();

  assert.equal(log.lines.length, 2);
  const first = JSON.parse(log.lines[0]!);
  assert.deepEqual(Object.keys(first), [
    "time",
    "request_id",
    "client",
    "method",
    "host",
    "path",
    "status",
    "bytes",
    "duration_ms",
    "route",
    "upstream",
    "attempts",
    "cache",
  ]);
  assert.equal(first.request_id, response.headers.get("x-request-id"));
  assert.equal(first.client, "127.0.0.1");
  assert.equal(first.method, "PUT");
  assert.equal(first.host, `127.0.0.1:${proxy.port}`);
  assert.equal(first.path, "/api/x?y=1");
  assert.equal(first.status, 200);
  assert.equal(first.bytes, 5);
  assert.equal(typeof first.duration_ms, "number");
  assert.ok(first.duration_ms >= 0);
  assert.equal(first.route, "api");
  assert.equal(first.upstream, upstream.url);
  assert.equal(first.attempts, 1);
  assert.equal(first.cache, null);
  assert.ok(!Number.isNaN(Date.parse(first.time)));

  const second = JSON.parse(log.lines[1]!);
  assert.deepEqual([second.status, second.route, second.upstream, second.attempts], [404, null, null, 0]);
});

Deno.test("access_log common writes Common Log Format lines", async () => {
  await using upstream = startUpstream(() => new Response("hello", { headers: { "content-length": "5" } }));
  const log = sink();
  await using proxy = startProxy(`backends: ["${upstream.url}"]\naccess_log: { format: common }`, {
    accessLog: log,
  });
  await (await fetch(`${proxy.url}/a?b=1`)).text();
  assert.equal(log.lines.length, 1);
  assert.match(
    log.lines[0]!,
    /^127\.0\.0\.1 - - \[\d{2}\/[A-Z][a-z]{2}\/\d{4}:\d{2}:\d{2}:\d{2} \+0000\] "GET \/a\?b=1 HTTP\/1\.1" 200 5$/,
  );
});

Deno.test("access_log off (or absent) writes nothing", async () => {
  await using upstream = startUpstream();
  for (const section of ["access_log: { format: off }", ""]) {
    const log = sink();
    await using proxy = startProxy(`backends: ["${upstream.url}"]\n${section}`, { accessLog: log });
    await (await fetch(proxy.url)).text();
    assert.deepEqual(log.lines, [], section || "absent");
  }
});

Deno.test("commonLine() escapes quotes and control characters so one request stays one line", () => {
  const entry = {
    time: Date.UTC(2026, 10, 26, 9, 5, 7),
    requestId: "r1",
    client: "10.0.0.1",
    method: "GET",
    host: "h",
    path: '/a"b\nc',
    status: 502,
    bytes: null,
    durationMs: 1.23456,
    route: null,
    upstream: null,
    attempts: 0,
    cache: null,
  };
  assert.equal(
    commonLine(entry),
    '10.0.0.1 - - [26/Nov/2026:09:05:07 +0000] "GET /a\\"b\\nc HTTP/1.1" 502 -',
  );
  assert.equal(JSON.parse(jsonLine(entry)).duration_ms, 1.235);
  assert.equal(JSON.parse(jsonLine(entry)).time, "2026-11-26T09:05:07.000Z");
});

Deno.test("jsonLine gives each line its own time, also when lines alternate between milliseconds", () => {
  const base = Date.UTC(2026, 10, 26, 9, 5, 7);
  const entry = {
    time: base,
    requestId: "id",
    client: "10.0.0.1",
    method: "GET",
    host: "h",
    path: "/",
    status: 200,
    bytes: 2,
    durationMs: 1,
    route: null,
    upstream: null,
    attempts: 1,
    cache: null,
  };
  for (const offset of [0, 0, 1, 0, 999, 1000]) {
    const time = base + offset;
    assert.equal(JSON.parse(jsonLine({ ...entry, time })).time, new Date(time).toISOString());
  }
});
