// First: V8 flags must be set before Prisma compiles its WebAssembly.
import "../src/v8-flags";
import crypto from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import { loadConfig } from "../src/config";
import { DATA_DIR } from "../src/db/database";
import { exitInOrder } from "../src/lifecycle";
import { createLogger } from "../src/logger";
import { startRuntime } from "../src/runtime";
import { startSandbox } from "./index";
import { generateKey } from "../src/tokens/crypto";

/**
 * `npm run demo`: the whole product with nothing configured — embedded PostgreSQL under
 * `.data/`, the local HighLevel sandbox, the app. The encryption key and an API key are generated
 * once and kept beside the data, so tokens stored by one run still decrypt in the next. The
 * sandbox keeps its side (tokens, installs, block slots) there too: otherwise a restart would
 * leave the database holding refresh tokens the new sandbox never issued.
 */
function keptSecret(name: string, make: () => string): string {
  const file = path.join(DATA_DIR, name);
  if (fs.existsSync(file)) return fs.readFileSync(file, "utf8").trim();
  fs.mkdirSync(DATA_DIR, { recursive: true });
  const value = make();
  fs.writeFileSync(file, value, { mode: 0o600 });
  return value;
}

/** A demo has no long jobs worth waiting for: past this, a stop still under way is cut. */
const FORCE_AFTER_MS = 4_500;

/** `.data/` as the README names it; a DEMO_DATA_DIR elsewhere in full. */
function shownDataDir(): string {
  const relative = path.relative(process.cwd(), DATA_DIR);
  return relative && !relative.startsWith("..") && !path.isAbsolute(relative) ? `${relative}/` : DATA_DIR;
}

async function main() {
  const sandbox = await startSandbox({
    port: Number(process.env.SANDBOX_PORT ?? 0),
    stateFile: path.join(DATA_DIR, "sandbox-state.json"),
  });
  const port = process.env.PORT ?? "3000";
  const apiKey = keptSecret("demo-api-key", () => `demo-${crypto.randomBytes(18).toString("base64url")}`);
  const ssoKey = keptSecret("demo-sso-key", () => crypto.randomBytes(24).toString("base64url"));
  const config = loadConfig({
    PORT: port,
    // A demo on a laptop answers that laptop only; HOST=0.0.0.0 opens it to the network.
    HOST: process.env.HOST ?? "127.0.0.1",
    APP_BASE_URL: process.env.APP_BASE_URL ?? `http://localhost:${port}`,
    LOG_LEVEL: process.env.LOG_LEVEL ?? "warn",
    // Named, so the console and the audit trail say whose key it was.
    API_KEYS: `Demo key:${apiKey}`,
    ...sandbox.appSettings,
    // "Open in HighLevel" on the install page: the sandbox's screens, on the app's host name.
    HIGHLEVEL_APP_URL: `http://localhost:${new URL(sandbox.url).port}`,
    TOKEN_ENCRYPTION_KEY: keptSecret("demo-encryption-key", generateKey),
    // The custom page's Shared Secret: the sandbox plays HighLevel's side of it.
    HIGHLEVEL_SSO_KEY: ssoKey,
    // The sandbox's "HighLevel" screen frames the custom page, as app.gohighlevel.com does.
    HIGHLEVEL_FRAME_ORIGINS: `http://localhost:${new URL(sandbox.url).port}`,
    // The sandbox signs its webhooks (INSTALL with the agency's name, appointments) with its own key.
    HIGHLEVEL_WEBHOOK_ED25519_PUBLIC_KEY: sandbox.state.webhookPublicKey,
    // The demo always runs on its own embedded PostgreSQL, never on a configured database.
    DATABASE_URL: "",
  });
  const log = createLogger(config.LOG_LEVEL);
  // A terminal's Ctrl-C: an orderly stop, each step bounded (src/runtime.ts), so it ends within
  // seconds even when the embedded database stopped first; a second Ctrl-C exits at once.
  const lifecycle = exitInOrder(log, { forceAfterMs: FORCE_AFTER_MS });
  const running = await startRuntime(config, log).catch(async (err: unknown) => {
    await sandbox.close();
    throw err;
  });

  sandbox.state.customPage = { appUrl: running.url, ssoKey };
  // Webhooks go where HighLevel would send them: installs name their agency, bookings trigger rules.
  sandbox.state.webhookUrl = `http://127.0.0.1:${new URL(running.url).port}/webhooks/highlevel`;
  // Same host name as the app, so the page's session cookie is first-party inside the frame.
  const highLevel = `http://localhost:${new URL(sandbox.url).port}/_sandbox/app`;
  process.stdout.write(
    [
      "",
      "  Block Slots for HighLevel is running with a local HighLevel sandbox.",
      "",
      `  Open ${running.url} and install it (pick a sub-account or the whole agency).`,
      `  Then see it inside "HighLevel":  ${highLevel}`,
      `  Operator console:                ${running.url}/console   (sign in with the API key)`,
      `  API documentation:               ${running.url}/api/docs`,
      "",
      `  API key (kept in ${shownDataDir()}): ${apiKey}`,
      `  e.g. curl -H "Authorization: Bearer ${apiKey}" ${running.url}/api/installations`,
      "",
      "  Press Ctrl-C to stop.",
      "",
      "",
    ].join("\n"),
  );

  lifecycle.started({
    async stop() {
      process.stdout.write("\nStopping… (Ctrl-C again to quit at once)\n");
      try {
        await running.stop();
      } finally {
        // Even if the app fails to stop cleanly, the sandbox must save what it issued.
        await sandbox.close();
      }
    },
  });
}

main().catch((err: unknown) => {
  process.stderr.write(`The demo could not start: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
