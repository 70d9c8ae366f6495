import { clientKey } from "../src/auth/throttle";

// Failed authentications are counted per client key: what one client can vary must not give it a
// fresh count, and two clients must not share one.
describe("the key failed authentications are counted by", () => {
  it("is the IPv4 address itself, also when it comes IPv4-mapped over IPv6", () => {
    expect(clientKey("203.0.113.17")).toBe("203.0.113.17");
    expect(clientKey("::ffff:203.0.113.17")).toBe("203.0.113.17");
    expect(clientKey("::FFFF:10.20.30.40")).toBe("10.20.30.40");
  });

  it("is an IPv6 address's /64, however it is written", () => {
    const key = "2001:db8:1:2::/64";
    expect(clientKey("2001:db8:1:2::1")).toBe(key);
    expect(clientKey("2001:0db8:0001:0002:ffff:ffff:ffff:ffff")).toBe(key);
    expect(clientKey("2001:db8:1:2:0:0:0:9")).toBe(key);
    expect(clientKey("2001:db8:1:2::a:b%eth0")).toBe(key);
    expect(clientKey("2001:db8:1:3::1")).toBe("2001:db8:1:3::/64");
    expect(clientKey("2001:db8::1")).toBe("2001:db8:0:0::/64");
    expect(clientKey("::1")).toBe("0:0:0:0::/64");
  });

  it("keeps an IPv4 address written inside another IPv6 prefix to that prefix", () => {
    // Only ::ffff:a.b.c.d is IPv4; the same dotted tail under another /64 is that network's.
    expect(clientKey("2001:db8:1:2::ffff:203.0.113.17")).toBe("2001:db8:1:2::/64");
  });

  it("is 'unknown' when the address is not known, so such requests still share one count", () => {
    expect(clientKey(undefined)).toBe("unknown");
    expect(clientKey("")).toBe("unknown");
  });
});
