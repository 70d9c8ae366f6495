import { relative } from "../src/console/present";

// The hint beside a time on console pages ("5 min ago"): an operator reads it at a glance.
describe("a time's hint on console pages", () => {
  const now = Date.parse("2026-11-28T12:00:00Z");
  const at = (seconds: number) => new Date(now + seconds * 1000);

  it("calls a record stamped a moment ahead of the page's clock 'just now', not a future", () => {
    expect(relative(at(0.4), now)).toBe("just now");
    expect(relative(at(3), now)).toBe("just now");
    expect(relative(at(-40), now)).toBe("just now");
  });

  it("still tells a time that is truly ahead or behind", () => {
    expect(relative(at(30), now)).toBe("in less than a minute");
    expect(relative(at(-5 * 60), now)).toBe("5 min ago");
    expect(relative(at(3 * 3600), now)).toBe("in 3 h");
    expect(relative(at(-3 * 86400), now)).toBe("3 days ago");
  });
});
