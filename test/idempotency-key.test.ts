import type { Request } from "express";
import { AppError } from "../src/errors";
import { fingerprint, idempotencyKeyOf } from "../src/http/idempotency";

/**
 * What makes two requests "the same request" for an Idempotency-Key, and which keys are accepted.
 * No database: these decide whether a retry replays an answer or is refused as another request.
 */
const request = (over: Partial<Request> = {}) =>
  ({ method: "POST", baseUrl: "/api/locations/loc-1", path: "/block-slots", headers: {}, ...over }) as Request;
const hash = (body: unknown, over?: Partial<Request>) => fingerprint(request(over), body);

describe("the same request", () => {
  it("is the same whatever the order of the body's fields, at every depth", () => {
    const body = { title: "Lunch", startTime: "a", endTime: "b", nested: { z: 1, y: [1, { q: 2, p: 3 }], x: null } };
    const reordered = {
      nested: { x: null, y: [1, { p: 3, q: 2 }], z: 1 },
      endTime: "b",
      title: "Lunch",
      startTime: "a",
    };
    expect(hash(reordered)).toBe(hash(body));
  });

  it("leaves out fields whose value is undefined, as JSON does", () => {
    expect(hash({ title: "Lunch", calendarId: undefined })).toBe(hash({ title: "Lunch" }));
  });

  it("is another request when any value differs, however deep", () => {
    const base = hash({ title: "Lunch", items: [{ at: 1 }] });
    expect(hash({ title: "Lunch!", items: [{ at: 1 }] })).not.toBe(base);
    expect(hash({ title: "Lunch", items: [{ at: 2 }] })).not.toBe(base);
    expect(hash({ title: "Lunch", items: [{ at: 1 }], extra: 0 })).not.toBe(base);
    expect(hash({ title: "Lunch", items: [{ at: 1 }, { at: 1 }] })).not.toBe(base);
  });

  it("keeps the order of lists, and does not confuse a list with an object or run values together", () => {
    expect(hash([1, 2])).not.toBe(hash([2, 1]));
    expect(hash([1, 2])).not.toBe(hash({ 0: 1, 1: 2 }));
    expect(hash([1, 23])).not.toBe(hash([12, 3]));
    expect(hash({ a: 1, b: 23 })).not.toBe(hash({ a: 12, b: 3 }));
    expect(hash({ ab: 1 })).not.toBe(hash({ a: "b1" }));
    expect(hash({ a: "1" })).not.toBe(hash({ a: 1 }));
    expect(hash({})).not.toBe(hash([]));
    expect(hash(null)).not.toBe(hash({}));
  });

  it("is another request on another route or method, with the same body", () => {
    const base = hash({ title: "Lunch" });
    expect(hash({ title: "Lunch" }, { baseUrl: "/api/locations/loc-2" })).not.toBe(base);
    expect(hash({ title: "Lunch" }, { path: "/other" })).not.toBe(base);
    expect(hash({ title: "Lunch" }, { method: "PUT" })).not.toBe(base);
  });

  it("is a SHA-256 in hex: the same length for any body", () => {
    expect(hash({ title: "x".repeat(10_000) })).toMatch(/^[0-9a-f]{64}$/);
  });
});

describe("the Idempotency-Key header", () => {
  const keyOf = (value: unknown) => idempotencyKeyOf(request({ headers: { "idempotency-key": value } as never }));
  const refusal = (value: unknown) => {
    try {
      keyOf(value);
    } catch (err) {
      return err;
    }
    throw new Error(`${JSON.stringify(value)} was accepted`);
  };

  it("is optional", () => {
    expect(idempotencyKeyOf(request())).toBeUndefined();
  });

  it("accepts 1 to 255 visible ASCII characters, as sent", () => {
    for (const key of ["k", "x".repeat(255), "!~", "order-42/retry_1"]) expect(keyOf(key)).toBe(key);
  });

  it("refuses an empty or too long key, spaces, control and non-ASCII characters, and a repeated header", () => {
    for (const value of ["", "x".repeat(256), "two words", "tab\there", "caf\u00e9", "del\x7f", ["a", "b"]]) {
      const err = refusal(value);
      expect(err).toBeInstanceOf(AppError);
      expect(err).toMatchObject({
        code: "invalid_request",
        message: "The Idempotency-Key header is invalid.",
        errors: [{ path: "Idempotency-Key", message: "must be 1 to 255 visible ASCII characters" }],
      });
    }
  });
});
