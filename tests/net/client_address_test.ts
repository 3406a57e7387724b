import assert from "node:assert/strict";
import {
  clientAddress,
  normalizeIp,
  parseCidr,
  parseForwardedFor,
  TrustedProxies,
} from "../../src/net/client_address.ts";

Deno.test("normalizeIp() canonicalises IPv4, IPv6 and IPv4-mapped IPv6 and refuses junk", () => {
  const cases: [string, string | undefined][] = [
    ["192.0.2.1", "192.0.2.1"],
    ["::ffff:192.0.2.1", "192.0.2.1"],
    ["::FFFF:c000:0201", "192.0.2.1"],
    ["2001:0db8:0000:0000:0000:0000:0000:0001", "2001:db8::1"],
    ["2001:db8:0:0:1:0:0:1", "2001:db8::1:0:0:1"],
    ["::", "::"],
    ["::1", "::1"],
    ["1:2:3:4:5:6:7:8", "1:2:3:4:5:6:7:8"],
    ["256.0.0.1", undefined],
    ["01.2.3.4", undefined],
    ["1.2.3", undefined],
    ["1::2::3", undefined],
    ["1:2:3:4:5:6:7:8:9", undefined],
    ["fe80::1%eth0", undefined],
    ["unknown", undefined],
  ];
  for (const [input, expected] of cases) assert.equal(normalizeIp(input), expected, input);
});

Deno.test("TrustedProxies matches IPv4, IPv6 and IPv4-mapped peers against CIDR blocks", () => {
  const trusted = new TrustedProxies(["10.0.0.0/8", "2001:db8:aa::/48", "192.0.2.7"]);
  assert.ok(trusted.contains("10.200.3.4"));
  assert.ok(trusted.contains("::ffff:10.1.1.1"), "IPv4-mapped form of a trusted IPv4 address");
  assert.equal(trusted.contains("11.0.0.1"), false);
  assert.ok(trusted.contains("2001:db8:aa:ffff::1"));
  assert.equal(trusted.contains("2001:db8:ab::1"), false);
  assert.ok(trusted.contains("192.0.2.7"));
  assert.equal(trusted.contains("192.0.2.8"), false, "a bare address is a /32");
  assert.equal(trusted.contains("garbage"), false);
  const named = new TrustedProxies(["loopback", "private"]);
  assert.ok(named.contains("127.0.0.1") && named.contains("::1") && named.contains("172.20.0.1"));
  assert.equal(named.contains("8.8.8.8"), false);
});

Deno.test("parseCidr() rejects malformed blocks with TypeError", () => {
  for (const bad of ["10.0.0.0/33", "::/129", "10.0.0.0/8/1", "x/8", "10.0.0.0/-1", "10.0.0.0/"]) {
    assert.throws(() => parseCidr(bad), TypeError, bad);
  }
  assert.equal(parseCidr("0.0.0.0/0").prefix, 96);
});

const trusted = new TrustedProxies(["10.0.0.0/8", "fd00::/8"]);

Deno.test("clientAddress() ignores forwarding headers sent by an untrusted peer", () => {
  const address = clientAddress({ peer: "203.0.113.9", xForwardedFor: "1.1.1.1", trusted });
  assert.equal(address, "203.0.113.9");
  const viaForwarded = clientAddress({
    peer: "203.0.113.9",
    forwarded: "for=1.1.1.1",
    header: "forwarded",
    trusted,
  });
  assert.equal(viaForwarded, "203.0.113.9");
});

Deno.test("clientAddress() takes the rightmost untrusted X-Forwarded-For entry behind trusted proxies", () => {
  // The client forged "6.6.6.6"; our edge proxy (10.0.0.2) appended the real client address.
  const address = clientAddress({
    peer: "10.0.0.1",
    xForwardedFor: "6.6.6.6, 198.51.100.4, 10.0.0.2",
    trusted,
  });
  assert.equal(address, "198.51.100.4");
  const spoofedAgain = clientAddress({
    peer: "10.0.0.1",
    xForwardedFor: "7.7.7.7, 198.51.100.4, 10.0.0.2",
    trusted,
  });
  assert.equal(spoofedAgain, address, "a forged left part does not change the answer");
});

Deno.test("clientAddress() handles ports, IPv6 and a chain made only of trusted hops", () => {
  assert.equal(
    clientAddress({ peer: "::ffff:10.0.0.1", xForwardedFor: "[2001:db8::5]:443, 10.1.1.1:80", trusted }),
    "2001:db8::5",
  );
  assert.equal(clientAddress({ peer: "10.0.0.1", xForwardedFor: "10.0.0.3, 10.0.0.2", trusted }), "10.0.0.3");
  assert.equal(clientAddress({ peer: "10.0.0.1", trusted }), "10.0.0.1");
  assert.equal(clientAddress({ peer: "10.0.0.1", xForwardedFor: "unknown", trusted }), "10.0.0.1");
});

Deno.test("clientAddress() reads RFC 7239 Forwarded only when told to", () => {
  const forwarded = 'for=6.6.6.6, for="[2001:db8:cafe::17]:4711";proto=https, For=10.0.0.2;by=10.0.0.1';
  assert.equal(
    clientAddress({ peer: "10.0.0.1", forwarded, header: "forwarded", trusted }),
    "2001:db8:cafe::17",
  );
  // Our proxies write X-Forwarded-For; a Forwarded header then came from the client and is ignored.
  assert.equal(
    clientAddress({ peer: "10.0.0.1", forwarded, xForwardedFor: "198.51.100.4", trusted }),
    "198.51.100.4",
  );
});

Deno.test("parseForwardedFor() unquotes values and keeps one entry per element", () => {
  assert.deepEqual(
    parseForwardedFor('for=192.0.2.60;proto=http;by=203.0.113.43, proto=https, for="_hidden", FOR="[::1]"'),
    ["192.0.2.60", "", "_hidden", "[::1]"],
  );
  assert.deepEqual(parseForwardedFor('for="a\\"b";x=1'), ['a"b']);
  assert.deepEqual(parseForwardedFor(""), []);
});

Deno.test("TrustedProxies answers dotted quads like their IPv4-mapped forms, including ::/0 and /0 blocks", () => {
  const cases: [string[], string, boolean][] = [
    [["10.0.0.0/8"], "10.255.255.255", true],
    [["10.0.0.0/8"], "11.0.0.0", false],
    [["0.0.0.0/0"], "203.0.113.9", true],
    [["::/0"], "203.0.113.9", true],
    [["2001:db8::/32"], "203.0.113.9", false],
    [["::ffff:192.0.2.0/120"], "192.0.2.200", true],
    [["255.255.255.255"], "255.255.255.255", true],
    [["10.0.0.0/8"], "10.0.0.01", false],
    [["10.0.0.0/8"], "10.0.0", false],
    [["10.0.0.0/8"], "10.0.0.0.1", false],
  ];
  for (const [blocks, address, expected] of cases) {
    const trusted = new TrustedProxies(blocks);
    assert.equal(trusted.contains(address), expected, `${blocks.join(",")} ∋ ${address}`);
    const mapped = `::ffff:${address}`;
    if (expected) assert.equal(trusted.contains(mapped), true, `${blocks.join(",")} ∋ ${mapped}`);
  }
  assert.equal(new TrustedProxies([]).contains("127.0.0.1"), false);
});
