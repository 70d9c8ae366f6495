import fs from "node:fs";
import type { Server } from "node:http";
import path from "node:path";
import type express from "express";
import { chromium, type Browser, type Page } from "playwright-core";
import type { SandboxCompany } from "../../sandbox";
import { installCompany } from "./api";
import { startHarness, type Harness } from "./harness";

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

import { freePort } from "../../src/util/net";
export { freePort };

export function listen(app: express.Express, port = 0): Promise<{ url: string; server: Server }> {
  return new Promise((resolve, reject) => {
    // Express 5 hands a listen error to this callback: a port taken meanwhile fails here, not in a hang.
    const server = app.listen(port, "127.0.0.1", (err?: Error) => {
      if (err) return reject(err);
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

/** What a browser test of the custom page works with: the app on a real port, HighLevel's sandbox framing it. */
export interface CustomPageStack {
  h: Harness;
  app: { url: string; server: Server };
  browser: Browser;
  close(): Promise<void>;
}

/**
 * The app's URL must be known before it starts, so its port is found free first; another process
 * can take that port before the app listens on it (a client's outgoing connection picks its port
 * from the same range). Then the harness starts again on other ports.
 */
async function onFreePorts(options: { companies: SandboxCompany[]; ssoKey: string; jobs?: boolean }) {
  for (let attempt = 1; ; attempt++) {
    const [port, sandboxPort] = [await freePort(), await freePort()];
    const h = await startHarness({
      sandbox: { companies: options.companies, port: sandboxPort },
      env: {
        HIGHLEVEL_SSO_KEY: options.ssoKey,
        APP_BASE_URL: `http://127.0.0.1:${port}`,
        HIGHLEVEL_FRAME_ORIGINS: `http://127.0.0.1:${sandboxPort}`,
      },
      ...(options.jobs ? { jobs: true } : {}),
    });
    try {
      return { h, app: await listen(h.app, port) };
    } catch (err) {
      await h.close();
      if ((err as { code?: string }).code !== "EADDRINUSE" || attempt === 3) throw err;
    }
  }
}

/**
 * The custom page as HighLevel shows it: the app listening on a port of its own, the sandbox
 * framing it (its origin allowed to), the SSO secret shared, `companyId` installed, Chromium up.
 */
export async function customPageStack(options: {
  companies: SandboxCompany[];
  install: string;
  ssoKey: string;
  jobs?: boolean;
}): Promise<CustomPageStack> {
  const { h, app } = await onFreePorts(options);
  const browser = await launchBrowser();
  await installCompany(h, options.install);
  h.sandbox.state.customPage = { appUrl: app.url, ssoKey: options.ssoKey };
  return {
    h,
    app,
    browser,
    close: async () => {
      await browser.close();
      await closeServer(app.server);
      await h.close();
    },
  };
}
