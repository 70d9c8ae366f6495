import { spawnSync } from "node:child_process";
import path from "node:path";
import { ConfigError, DEFAULT_SCOPES, HIGHLEVEL_APP_ORIGINS, loadConfig } from "../src/config";
import { generateKey } from "../src/tokens/crypto";

const valid = {
  HIGHLEVEL_CLIENT_ID: "abc123-xyz",
  HIGHLEVEL_CLIENT_SECRET: "s3cret",
  TOKEN_ENCRYPTION_KEY: generateKey(),
};

function problems(env: Record<string, string>, options: { strict?: boolean } = {}): string[] {
  try {
    loadConfig(env, options);
  } catch (err) {
    if (err instanceof ConfigError) return err.problems;
    throw err;
  }
  return [];
}

describe("configuration", () => {
  it("applies the contract's defaults", () => {
    const config = loadConfig(valid);
    expect(config.PORT).toBe(3000);
    expect(config.APP_BASE_URL).toBe("http://localhost:3000");
    expect(config.redirectUri).toBe("http://localhost:3000/oauth/callback");
    expect(config.HIGHLEVEL_API_URL).toBe("https://services.leadconnectorhq.com");
    expect(config.HIGHLEVEL_MARKETPLACE_URL).toBe("https://marketplace.gohighlevel.com");
    expect(config.HIGHLEVEL_SCOPES).toBe(DEFAULT_SCOPES);
    expect(config.LOG_LEVEL).toBe("info");
    expect(config.DATABASE_URL).toBeUndefined();
    expect(config.HOST).toBe("0.0.0.0");
    expect(config.TRUST_PROXY).toBe(false);
    expect(config.HIGHLEVEL_FRAME_ORIGINS).toEqual(HIGHLEVEL_APP_ORIGINS);
  });

  it("lets white-label origins frame the custom page besides HighLevel's own, and names a malformed one", () => {
    const config = loadConfig({
      ...valid,
      HIGHLEVEL_FRAME_ORIGINS: "https://app.agency.example/, https://*.crm.example",
    });
    expect(config.HIGHLEVEL_FRAME_ORIGINS).toEqual([
      ...HIGHLEVEL_APP_ORIGINS,
      "https://app.agency.example",
      "https://*.crm.example",
    ]);
    const found = problems({
      ...valid,
      HIGHLEVEL_FRAME_ORIGINS: "https://ok.example https://evil.example;script-src",
    });
    expect(found).toEqual([expect.stringMatching(/^HIGHLEVEL_FRAME_ORIGINS entry #2 .*must be an origin/)]);
  });

  it("reads TRUST_PROXY in Express's syntax and refuses what Express would not understand", () => {
    expect(loadConfig({ ...valid, TRUST_PROXY: "true" }).TRUST_PROXY).toBe(true);
    expect(loadConfig({ ...valid, TRUST_PROXY: "2" }).TRUST_PROXY).toBe(2);
    expect(loadConfig({ ...valid, TRUST_PROXY: "10.0.0.0/8, loopback" }).TRUST_PROXY).toEqual([
      "10.0.0.0/8",
      "loopback",
    ]);
    expect(problems({ ...valid, TRUST_PROXY: "my-load-balancer" })).toEqual([expect.stringMatching(/^TRUST_PROXY /)]);
  });

  it("under npm start, refuses bootstrap API keys shorter than 32 characters, naming them by position only", () => {
    const short = "short-but-secret-key";
    const env = { ...valid, API_KEYS: `${"k".repeat(32)},${short}` };
    const found = problems(env, { strict: true });
    expect(found).toEqual([expect.stringMatching(/^API_KEYS entry #2 is shorter than 32 characters/)]);
    expect(found.join("\n")).not.toContain(short);
    // Tests and the demo build their configuration without the production rules.
    expect(loadConfig(env).API_KEYS.map((k) => k.key)).toEqual(["k".repeat(32), short]);
  });

  it("takes a bootstrap key's name from `name:key`, and checks the key's length, not the entry's", () => {
    const key = "k".repeat(32);
    const env = { ...valid, API_KEYS: `Ops team:${key}, ${key.slice(1)}x` };
    expect(loadConfig(env).API_KEYS).toEqual([
      { name: "Ops team", key },
      { name: "Bootstrap key 2", key: `${key.slice(1)}x` },
    ]);
    expect(problems({ ...valid, API_KEYS: `A rather long name for a key:short` }, { strict: true })).toEqual([
      expect.stringMatching(/^API_KEYS entry #1 is shorter than 32 characters/),
    ]);
  });

  it("derives the redirect URI from APP_BASE_URL", () => {
    const config = loadConfig({ ...valid, APP_BASE_URL: "https://blocks.example.com/" });
    expect(config.redirectUri).toBe("https://blocks.example.com/oauth/callback");
  });

  it("names every missing and malformed variable at once", () => {
    const found = problems({
      PORT: "eighty",
      HIGHLEVEL_API_URL: "not a url",
      DATABASE_URL: "mysql://x",
      LOG_LEVEL: "loud",
    });
    const named = found.map((p) => p.split(" ")[0]);
    expect(named).toEqual(
      expect.arrayContaining([
        "PORT",
        "HIGHLEVEL_API_URL",
        "DATABASE_URL",
        "LOG_LEVEL",
        "HIGHLEVEL_CLIENT_ID",
        "HIGHLEVEL_CLIENT_SECRET",
        "TOKEN_ENCRYPTION_KEY",
      ]),
    );
  });

  it("rejects an encryption key of the wrong length", () => {
    const found = problems({ ...valid, TOKEN_ENCRYPTION_KEY: "dG9vIHNob3J0" });
    expect(found).toEqual([expect.stringMatching(/^TOKEN_ENCRYPTION_KEY .*32 bytes/)]);
  });

  it("production needs a real PostgreSQL: NODE_ENV=production without DATABASE_URL is refused unless EMBEDDED_DB=1", () => {
    expect(problems({ ...valid, NODE_ENV: "production" })).toEqual([
      expect.stringMatching(/^DATABASE_URL is required in production.*EMBEDDED_DB=1/),
    ]);
    expect(problems({ ...valid, NODE_ENV: "production", EMBEDDED_DB: "1" })).toEqual([]);
    expect(problems({ ...valid, NODE_ENV: "production", DATABASE_URL: "postgresql://db.internal/app" })).toEqual([]);
    expect(problems({ ...valid, EMBEDDED_DB: "yes" })).toEqual([expect.stringMatching(/^EMBEDDED_DB /)]);
    // The demo and the tests pass their own settings, without NODE_ENV: the embedded database is theirs.
    expect(problems(valid)).toEqual([]);
  });

  it("retention periods default to 30 days and are whole days", () => {
    expect(loadConfig(valid)).toMatchObject({ WEBHOOK_RETENTION_DAYS: 30, JOB_RETENTION_DAYS: 30, EMBEDDED_DB: false });
    expect(loadConfig({ ...valid, WEBHOOK_RETENTION_DAYS: "7" }).WEBHOOK_RETENTION_DAYS).toBe(7);
    expect(
      problems({ ...valid, WEBHOOK_RETENTION_DAYS: "0", JOB_RETENTION_DAYS: "1.5" }).map((p) => p.split(" ")[0]),
    ).toEqual(["WEBHOOK_RETENTION_DAYS", "JOB_RETENTION_DAYS"]);
  });

  it("npm start without DATABASE_URL refuses to start, naming it and what to do", () => {
    const root = path.resolve(__dirname, "..");
    const result = spawnSync(process.execPath, [require.resolve("tsx/cli"), "src/server.ts"], {
      cwd: root,
      env: { PATH: process.env.PATH ?? "", ...valid },
      encoding: "utf8",
      timeout: 20_000,
    });
    expect(result.status).toBe(1);
    expect(result.stderr).toContain("DATABASE_URL is required in production");
    expect(result.stderr).toContain("EMBEDDED_DB=1");
  });

  it("npm start refuses to start and lists what is missing", () => {
    const root = path.resolve(__dirname, "..");
    const result = spawnSync(process.execPath, [require.resolve("tsx/cli"), "src/server.ts"], {
      cwd: root,
      env: { PATH: process.env.PATH ?? "", PORT: "nope", API_KEYS: "guessable" },
      encoding: "utf8",
      timeout: 20_000,
    });
    expect(result.status).toBe(1);
    for (const name of ["PORT", "HIGHLEVEL_CLIENT_ID", "HIGHLEVEL_CLIENT_SECRET", "TOKEN_ENCRYPTION_KEY", "API_KEYS"]) {
      expect(result.stderr).toContain(name);
    }
    expect(result.stderr).toContain("API_KEYS entry #1 is shorter than 32 characters");
    expect(result.stderr).not.toContain("guessable");
  });
});
