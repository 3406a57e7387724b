/** Cost of rewriting request and response headers for one proxied exchange. */
import { scanResponseHeaders, upstreamRequestHeaderRecord } from "../src/proxy/headers.ts";

const browserRequest = new Headers({
  host: "shop.example.com",
  "user-agent":
    "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/156.0 Safari/537.36",
  accept: "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8",
  "accept-language": "en-US,en;q=0.9",
  "accept-encoding": "gzip, deflate, br, zstd",
  connection: "keep-alive",
  cookie: "session=abc123; theme=dark",
  "upgrade-insecure-requests": "1",
  "x-forwarded-for": "203.0.113.9",
});
const wrkRequest = new Headers({ host: "127.0.0.1:8080" });
const upstreamResponse = new Headers({
  "content-type": "text/html; charset=utf-8",
  "content-length": "5120",
  "cache-control": "private, max-age=0",
  date: "Thu, 26 Nov 2026 10:00:00 GMT",
  etag: '"abc"',
  "keep-alive": "timeout=5",
  connection: "keep-alive",
});
const facts = {
  clientIp: "127.0.0.1",
  trusted: false,
  proto: "http",
  host: "shop.example.com",
  requestId: "5f0c6a39-2a5e-4a7e-9f0e-6f2d9b8a1c3d",
  via: "1.1 proxy",
};

Deno.bench("request headers: browser-like request (9 fields)", { group: "request" }, () => {
  upstreamRequestHeaderRecord(browserRequest, facts);
});
Deno.bench("request headers: wrk request (Host only)", { group: "request" }, () => {
  upstreamRequestHeaderRecord(wrkRequest, facts);
});
Deno.bench("response headers: 7 fields", { group: "response" }, () => {
  scanResponseHeaders(upstreamResponse, "1.1 proxy");
});
Deno.bench("baseline: new Headers(copy) of the browser request", { group: "request", baseline: true }, () => {
  new Headers(browserRequest);
});
