import { createLogger, redactSecrets } from "../src/logger";
import { LogCapture } from "./support/harness";

/** Whatever shape a record takes, a secret-named field never reaches the log as its value. */
describe("log redaction", () => {
  const logged = (write: (log: ReturnType<typeof createLogger>) => void) => {
    const sink = new LogCapture();
    const log = createLogger("info", sink);
    write(log);
    log.flush();
    return sink.text;
  };

  it("censors secrets at the top, nested and inside arrays, and keeps the rest", () => {
    const text = logged((log) =>
      log.info(
        {
          access_token: "s3cret-a",
          job: { data: { refresh_token: "s3cret-b", locationId: "loc-1" } },
          items: [{ apiKey: "s3cret-c" }],
          headers: { authorization: "Bearer s3cret-d", cookie: "sid=s3cret-e" },
        },
        "something",
      ),
    );
    expect(text).not.toMatch(/s3cret/);
    expect(text).toContain('"locationId":"loc-1"');
    expect(text).toContain('"access_token":"[Redacted]"');
  });

  it("logs an error's message and code but not what else it carries", () => {
    const err = Object.assign(new Error("HighLevel said no"), {
      code: "E_NOPE",
      config: { headers: { Authorization: "Bearer s3cret-f" }, data: "client_secret=s3cret-g" },
      cause: Object.assign(new Error("underneath"), { response: { body: "s3cret-h" } }),
    });
    const text = logged((log) => log.error({ err }, "failed"));
    expect(text).not.toMatch(/s3cret/);
    expect(text).toContain("HighLevel said no");
    expect(text).toContain('"code":"E_NOPE"');
    expect(text).toContain("underneath");
  });

  it("does not copy a record that has nothing to censor", () => {
    const record = { locationId: "loc-1", nested: { count: 3 } };
    expect(redactSecrets(record)).toBe(record);
  });
});
