import { TokenBucket } from "../src/ratelimit/token_bucket.ts";
import { MemoryRateLimitStore } from "../src/ratelimit/store_memory.ts";
import { clientAddress, TrustedProxies } from "../src/net/client_address.ts";
import { rateLimitKey } from "../src/ratelimit/rate_limit_key.ts";

// A clock that advances 1 µs per call so buckets keep refilling and every path is exercised.
let t = 0;
const now = () => (t += 0.001);

const bucket = new TokenBucket({ ratePerSecond: 1000, burst: 100 });
Deno.bench("TokenBucket.tryTake() (allocation-free)", { group: "bucket", baseline: true }, () => {
  bucket.tryTake(now());
});
Deno.bench("TokenBucket.take() (returns a Decision)", { group: "bucket" }, () => {
  bucket.take(now());
});

const one = new MemoryRateLimitStore({ ratePerSecond: 1000, burst: 100, now });
Deno.bench("MemoryRateLimitStore.take(), 1 key", { group: "store", baseline: true }, () => {
  one.take("203.0.113.7");
});

const KEYS = 100_000;
const keys = Array.from({ length: KEYS }, (_, i) => `ip:10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`);
const many = new MemoryRateLimitStore({ ratePerSecond: 1000, burst: 100, maxKeys: KEYS, now });
for (const key of keys) many.take(key);
let i = 0;
Deno.bench("MemoryRateLimitStore.take(), 100k keys round robin", { group: "store" }, () => {
  many.take(keys[i++ % KEYS]!);
});

const tiny = new MemoryRateLimitStore({ ratePerSecond: 1, burst: 1, maxKeys: 1000, now });
let j = 0;
Deno.bench("MemoryRateLimitStore.take(), 100k keys through a 1k table (evicting)", { group: "store" }, () => {
  tiny.take(keys[j++ % KEYS]!);
});

const trusted = new TrustedProxies(["10.0.0.0/8", "fd00::/8"]);
Deno.bench("clientAddress() + rateLimitKey() behind one trusted proxy", { group: "key" }, () => {
  const address = clientAddress({ peer: "10.0.0.1", xForwardedFor: "6.6.6.6, 198.51.100.4", trusted });
  rateLimitKey({ kind: "client_ip" }, { clientAddress: address, header: () => null });
});

const untrusted = new TrustedProxies([]);
Deno.bench(
  "rateLimitKey() for a direct IPv4 client (the common case)",
  { group: "key", baseline: true },
  () => {
    rateLimitKey({ kind: "client_ip" }, { clientAddress: "203.0.113.7", header: () => null });
  },
);
Deno.bench("rateLimitKey() for a direct IPv6 client (/64)", { group: "key" }, () => {
  rateLimitKey({ kind: "client_ip" }, { clientAddress: "2001:db8:1:2::7", header: () => null });
});
Deno.bench("TrustedProxies.contains() for an untrusted IPv4 peer", { group: "key" }, () => {
  untrusted.contains("203.0.113.7");
  trusted.contains("203.0.113.7");
});
