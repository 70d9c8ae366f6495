import fs from "node:fs";
import type { Server } from "node:http";
import path from "node:path";
import type express from "express";
import { chromium, type Browser, type Page } from "playwright-core";

/** Debian's Chromium (`apt-get install chromium`; .ci/run installs it), or CHROMIUM_PATH. */
const CHROMIUM = [process.env.CHROMIUM_PATH, "/usr/bin/chromium", "/usr/bin/chromium-browser"].find(
  (p): p is string => !!p && fs.existsSync(p),
);

/**
 * Browser tests run where Chromium is installed. On a developer machine without it they are
 * skipped with a warning; in CI (CI=true, set by .ci/run, which installs Chromium) they never are.
 */
export const describeInBrowser: jest.Describe = (() => {
  if (CHROMIUM || process.env.CI) return describe;
  process.emitWarning("Chromium is not installed (apt-get install chromium): the browser tests are skipped.");
  return describe.skip;
})();

export function chromiumPath(): string {
  if (!CHROMIUM) throw new Error("Chromium is not installed: `apt-get install chromium`, or set CHROMIUM_PATH.");
  return CHROMIUM;
}

export function launchBrowser(): Promise<Browser> {
  // --no-sandbox: CI runs as root, where Chromium's sandbox refuses to start.
  return chromium.launch({ executablePath: chromiumPath(), args: ["--no-sandbox"] });
}

const ARTIFACTS = path.resolve(__dirname, "..", "..", "test-artifacts");

/** Saves a full-page screenshot under test-artifacts/ (kept by CI, ignored by git). */
export async function screenshot(page: Page, name: string): Promise<void> {
  fs.mkdirSync(ARTIFACTS, { recursive: true });
  await page.screenshot({ path: path.join(ARTIFACTS, `${name}.png`), fullPage: true });
}

export { freePort } from "../../src/util/net";

export function listen(app: express.Express, port = 0): Promise<{ url: string; server: Server }> {
  return new Promise((resolve) => {
    const server = app.listen(port, "127.0.0.1", () => {
      const { port: actual } = server.address() as { port: number };
      resolve({ url: `http://127.0.0.1:${actual}`, server });
    });
  });
}

export const closeServer = (server: Server) =>
  new Promise<void>((resolve) => {
    server.close(() => resolve());
    server.closeAllConnections();
  });
