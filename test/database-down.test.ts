import request from "supertest";
import { createApp } from "../src/app";
import { loadConfig } from "../src/config";
import { createDb } from "../src/db/client";
import { createLogger } from "../src/logger";
import { createServices } from "../src/services";
import { generateKey } from "../src/tokens/crypto";
import { freePort } from "../src/util/net";
import { LogCapture, TEST_API_KEY, type Harness } from "./support/harness";
import { deliver, event, webhookSigners } from "./support/webhooks";

const signers = webhookSigners();

it("answers 503 problem+json with Retry-After (429 to a webhook), not 500, while PostgreSQL cannot be reached", async () => {
  // A real app whose database is a port nothing listens on: every connection is refused.
  const url = `postgresql://postgres:postgres@127.0.0.1:${await freePort()}/nowhere`;
  const config = loadConfig({
    ...signers.env,
    DATABASE_URL: url,
    HIGHLEVEL_CLIENT_ID: "id",
    HIGHLEVEL_CLIENT_SECRET: "secret",
    TOKEN_ENCRYPTION_KEY: generateKey(),
    API_KEYS: TEST_API_KEY,
    LOG_LEVEL: "error",
  });
  const db = createDb(url, { max: 2 });
  const app = createApp(createServices(config, db, createLogger("error", new LogCapture()), url));
  try {
    await request(app).get("/readyz").expect(503);
    for (const call of [
      request(app).get("/api/installations"),
      request(app).post("/api/locations/loc-1/block-slots").send({
        calendarId: "cal-1",
        startTime: "2030-05-01T12:00:00Z",
        endTime: "2030-05-01T13:00:00Z",
      }),
    ]) {
      const res = await call.auth(TEST_API_KEY, { type: "bearer" });
      expect(res.status).toBe(503);
      expect(res.headers["content-type"]).toContain("application/problem+json");
      expect(res.headers["retry-after"]).toBe("5");
      expect(res.body.code).toBe("service_unavailable");
    }
    // HighLevel sends a delivery again only when it is answered 429: anything else would lose it.
    const webhook = await deliver({ app } as Harness, signers, event({ type: "INSTALL", companyId: "co-1" }));
    expect(webhook.status).toBe(429);
    expect(webhook.headers["content-type"]).toContain("application/problem+json");
    expect(webhook.headers["retry-after"]).toBe("60");
    expect(webhook.body.code).toBe("webhook_not_stored");
  } finally {
    await db.$disconnect();
  }
}, 30_000);
