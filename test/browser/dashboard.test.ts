import type { Server } from "node:http";
import type { Browser } from "playwright-core";
import { BUCKET_MS } from "../../src/metrics/buckets";
import { apiAs, installLocation } from "../support/api";
import { closeServer, describeInBrowser, freePort, launchBrowser, listen, screenshot } from "../support/browser";
import { startHarness, TEST_API_KEY, type Harness } from "../support/harness";
import { SOLO, SOLO_SLOT, SOLO_SLOTS } from "../support/sandbox-fixtures";

describeInBrowser("the console dashboard in a real browser", () => {
  let h: Harness;
  let app: { url: string; server: Server };
  let browser: Browser;
  beforeAll(async () => {
    const port = await freePort();
    h = await startHarness({ sandbox: { companies: [SOLO] }, env: { APP_BASE_URL: `http://127.0.0.1:${port}` } });
    app = await listen(h.app, port);
    browser = await launchBrowser();
    // Real traffic: an install, blocks through the API; then a day of earlier counts, as other
    // processes would have left them, so the charts have a shape.
    await installLocation(h, "loc-solo");
    for (let i = 0; i < 3; i++) {
      const hour = 10 + i;
      await apiAs(h)
        .post(SOLO_SLOTS)
        .send({
          ...SOLO_SLOT,
          startTime: `2031-03-0${i + 1}T${hour}:00:00+00:00`,
          endTime: `2031-03-0${i + 1}T${hour + 1}:00:00+00:00`,
        })
        .expect(201);
    }
    const { buckets } = h.services;
    const now = Date.now();
    for (let i = 1; i < 288; i++) {
      const at = now - i * BUCKET_MS;
      const busy = Math.round(40 + 30 * Math.sin(i / 20));
      buckets.count("highlevel_requests", "ok", busy, at);
      if (i % 17 === 0) buckets.count("highlevel_requests", "5xx", 3, at);
      if (i % 40 === 0) buckets.count("highlevel_requests", "429", 5, at);
      if (i % 12 === 0) buckets.count("token_refreshes", "ok", 4, at);
      if (i === 100) buckets.count("token_refreshes", "invalid_grant", 1, at);
      buckets.count("webhook_deliveries", "processed", Math.round(busy / 4), at);
      buckets.observe("webhook_lag_seconds", "", 0.4 + (i % 9) / 10, at);
      buckets.observe("queue_waiting", "bulk-item", i > 100 && i < 130 ? 400 - (i - 100) * 12 : 0, at);
      buckets.observe("queue_waiting", "webhook", i % 5, at);
      buckets.observe("queue_oldest_seconds", "bulk-item", i > 100 && i < 130 ? 60 + (i - 100) * 4 : 0, at);
      buckets.count("blocks_created", i % 3 === 0 ? "bulk" : "api", Math.round(busy / 8), at);
    }
    await buckets.flush();
  }, 60_000);
  afterAll(async () => {
    await browser?.close();
    await closeServer(app.server);
    await h.close();
  });

  it("draws the charts in the operator's own time zone, named", async () => {
    const context = await browser.newContext({
      timezoneId: "America/New_York",
      viewport: { width: 1280, height: 900 },
    });
    const page = await context.newPage();
    await page.goto(`${app.url}/console/login`);
    await page.fill("#key", TEST_API_KEY);
    await Promise.all([page.waitForURL(/\/console/), page.click("button[type=submit]")]);
    await page.goto(`${app.url}/console/dashboard`);
    // The sign-in sent the browser's zone; the axes and the footer follow it.
    await expect(page.locator("#zone-line strong").textContent()).resolves.toMatch(
      /^America\/New_York \(UTC-0[45]:00\)$/,
    );
    await expect(page.locator("svg.chart").count()).resolves.toBe(8);
    await expect(page.locator("footer").textContent()).resolves.toContain("Times are in America/New_York");
    const blocks = await page.locator("#blocks-heading + .chart-body dd").first().textContent();
    expect(Number(blocks?.replace(/[^0-9]/g, ""))).toBeGreaterThanOrEqual(3);
    await screenshot(page, "console-dashboard");
    await page.click("text=Last 7 days");
    await page.waitForURL(/range=7d/);
    await expect(page.locator("#zone-line").textContent()).resolves.toContain("one point per hour");
    await screenshot(page, "console-dashboard-7d");
    await context.close();
  });
});
