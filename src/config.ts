import fs from "node:fs";
import net from "node:net";
import path from "node:path";
import { parse as parseDotenv } from "dotenv";
import proxyAddr from "proxy-addr";
import { z } from "zod";
import { parseKeyring } from "./tokens/crypto";
import { HIGHLEVEL_ED25519_PUBLIC_KEY, HIGHLEVEL_RSA_PUBLIC_KEY, loadWebhookKeys } from "./webhooks/signature";

export const DEFAULT_SCOPES =
  "calendars.readonly calendars/events.readonly calendars/events.write locations.readonly oauth.readonly oauth.write";

const emptyToUndefined = (v: unknown) => (typeof v === "string" && v.trim() === "" ? undefined : v);
const optionalString = z.preprocess(emptyToUndefined, z.string().optional());
const url = (what: string) =>
  z.preprocess(
    emptyToUndefined,
    z
      .string()
      .url(`must be a URL (${what})`)
      .refine((v) => /^https?:\/\//.test(v), "must start with http:// or https://")
      .transform((v) => v.replace(/\/+$/, "")),
  );

const keyring = z.string().superRefine((value, ctx) => {
  try {
    parseKeyring(value);
  } catch (err) {
    ctx.addIssue({ code: "custom", message: (err as Error).message });
  }
});

/** A webhook key that does not load is a configuration error, reported with the others at start. */
const loads = (kind: "rsa" | "ed25519") => (text: string) => {
  try {
    loadWebhookKeys({ [kind]: text });
    return true;
  } catch {
    return false;
  }
};

/**
 * Where HighLevel shows an app's custom page (docs/highlevel.md, "Custom pages"): always allowed to
 * frame it; HIGHLEVEL_FRAME_ORIGINS adds white-label domains.
 */
export const HIGHLEVEL_APP_ORIGINS = ["https://app.gohighlevel.com", "https://app.leadconnectorhq.com"];

/** A CSP source for frame-ancestors: scheme and host (optionally `*.` first), optional port, no path. */
const ORIGIN = /^https?:\/\/(\*\.)?[a-z0-9-]+(\.[a-z0-9-]+)*(:\d{1,5})?$/i;

const list = (value: string) =>
  value
    .split(/[\s,]+/)
    .map((entry) => entry.trim())
    .filter(Boolean);

const frameOrigins = z.preprocess(
  emptyToUndefined,
  z
    .string()
    .default("")
    .transform((value, ctx) => {
      const extra = list(value).map((entry) => entry.replace(/\/+$/, "").toLowerCase());
      extra.forEach((entry, i) => {
        if (!ORIGIN.test(entry))
          ctx.addIssue({
            code: "custom",
            message: `entry #${i + 1} ("${entry.slice(0, 100)}") must be an origin such as https://app.youragency.com: scheme and host, no path`,
          });
      });
      return [...new Set([...HIGHLEVEL_APP_ORIGINS, ...extra])];
    }),
);

/** HighLevel's burst limit, per app and location (or company): the app's budget unless set otherwise. */
export const HIGHLEVEL_BURST_DEFAULT = 100;

/** Express's `trust proxy` setting: true/false, a hop count, or addresses, CIDR ranges and names such as loopback. */
export type TrustProxy = boolean | number | string[];

const trustProxy = z.preprocess(
  emptyToUndefined,
  z
    .string()
    // Unset: no proxy is believed (DECISIONS #50); behind one, the operator names it (`loopback` for
    // a proxy on this machine). A default that trusts one would let any local process name a client.
    .default("false")
    .transform((value, ctx): TrustProxy => {
      const v = value.trim().toLowerCase();
      if (v === "true" || v === "false") return v === "true";
      if (/^\d+$/.test(v)) return Number(v);
      const entries = list(v);
      try {
        proxyAddr.compile(entries);
      } catch (err) {
        ctx.addIssue({
          code: "custom",
          message: `must be true, false, a number of proxies, or addresses, CIDR ranges and loopback/linklocal/uniquelocal (${(err as Error).message})`,
        });
      }
      return entries;
    }),
);

/** An address or host name to listen on. */
const host = z
  .string()
  .refine(
    (v) => net.isIP(v) !== 0 || /^[a-z0-9]([a-z0-9.-]*[a-z0-9])?$/i.test(v),
    "must be an IP address or host name",
  );

const splitKeys = (value: string) =>
  value
    .split(",")
    .map((k) => k.trim())
    .filter(Boolean);

/** A full-access key from API_KEYS, with the name the console and the audit trail show for it. */
export interface BootstrapKey {
  name: string;
  key: string;
}

/**
 * API_KEYS entries are `key` or `name:key` ("Ops team:5f2c…"): a name tells operators and the audit
 * trail whose key it was. Generated keys (base64, hex, hlbs_…) hold no colon.
 */
export function bootstrapKeys(value: string): BootstrapKey[] {
  return splitKeys(value).map((entry, i) => {
    const colon = entry.indexOf(":");
    const name = colon > 0 ? entry.slice(0, colon).trim() : "";
    return name ? { name, key: entry.slice(colon + 1).trim() } : { name: `Bootstrap key ${i + 1}`, key: entry };
  });
}

/** Required by `npm start`; `demo` and tests supply their own. */
const required = (message: string) => z.preprocess(emptyToUndefined, z.string({ error: message }));

/** A retention period in whole days. */
const days = (fallback: number) =>
  z.preprocess(emptyToUndefined, z.coerce.number().int().min(1).max(3650).default(fallback));

const schema = z.object({
  DATABASE_URL: z.preprocess(
    emptyToUndefined,
    z
      .string()
      .refine((v) => /^postgres(ql)?:\/\//.test(v), "must be a postgresql:// connection string")
      .optional(),
  ),
  PORT: z.preprocess(emptyToUndefined, z.coerce.number().int().min(0).max(65535).default(3000)),
  HOST: z.preprocess(emptyToUndefined, host.default("0.0.0.0")),
  TRUST_PROXY: trustProxy,
  APP_BASE_URL: url("the app's public URL").optional(),
  HIGHLEVEL_CLIENT_ID: required("is required: the marketplace app's Client ID"),
  HIGHLEVEL_CLIENT_SECRET: required("is required: the marketplace app's Client Secret"),
  HIGHLEVEL_SCOPES: z.preprocess(emptyToUndefined, z.string().default(DEFAULT_SCOPES)),
  HIGHLEVEL_API_URL: url("HighLevel API base").default("https://services.leadconnectorhq.com"),
  HIGHLEVEL_MARKETPLACE_URL: url("consent-page base").default("https://marketplace.gohighlevel.com"),
  HIGHLEVEL_APP_URL: url("HighLevel's web app, linked from the install page").default("https://app.gohighlevel.com"),
  HIGHLEVEL_WEBHOOK_PUBLIC_KEY: z.preprocess(
    emptyToUndefined,
    z.string().default(HIGHLEVEL_RSA_PUBLIC_KEY).refine(loads("rsa"), "must be an RSA public key (PEM)"),
  ),
  HIGHLEVEL_WEBHOOK_ED25519_PUBLIC_KEY: z.preprocess(
    emptyToUndefined,
    z
      .string()
      .default(HIGHLEVEL_ED25519_PUBLIC_KEY)
      .refine(loads("ed25519"), "must be an Ed25519 public key (PEM or base64 SPKI)"),
  ),
  HIGHLEVEL_SSO_KEY: optionalString,
  HIGHLEVEL_FRAME_ORIGINS: frameOrigins,
  TOKEN_ENCRYPTION_KEY: z.preprocess(
    emptyToUndefined,
    z.string({ error: "is required: 32 random bytes, base64 (openssl rand -base64 32)" }).pipe(keyring),
  ),
  API_KEYS: z.preprocess(emptyToUndefined, z.string().default("").transform(bootstrapKeys)),
  /** Bearer token for GET /metrics (a full-access API key works too). */
  METRICS_TOKEN: optionalString,
  /**
   * `off`: the app counts nothing (no /metrics, no dashboard counts from this process); for
   * measuring what counting costs (`npm run bench`) or a process that should not add to the charts.
   */
  METRICS: z.preprocess(
    (v) => (typeof v === "string" ? emptyToUndefined(v.trim().toLowerCase()) : v),
    z.enum(["on", "off"], { error: "must be on or off" }).default("on"),
  ),
  /** Days the console dashboard's 5-minute buckets are kept: a week's chart and a day to spare. */
  METRICS_RETENTION_DAYS: days(8),
  HIGHLEVEL_BURST_LIMIT: z.preprocess(
    emptyToUndefined,
    z.coerce.number().int().min(1).max(100_000).default(HIGHLEVEL_BURST_DEFAULT),
  ),
  HIGHLEVEL_BURST_WINDOW_MS: z.preprocess(
    emptyToUndefined,
    z.coerce.number().int().min(100).max(3_600_000).default(10_000),
  ),
  HIGHLEVEL_DAILY_LIMIT: z.preprocess(emptyToUndefined, z.coerce.number().int().min(1).default(200_000)),
  REFRESH_GIVE_UP_DAYS: z.preprocess(emptyToUndefined, z.coerce.number().min(0.001).max(365).default(7)),
  JOB_TIMEOUT_SECONDS: z.preprocess(emptyToUndefined, z.coerce.number().int().min(2).max(3600).default(120)),
  WORKER_CONCURRENCY: z.preprocess(emptyToUndefined, z.coerce.number().int().min(0).max(1000).default(200)),
  WEBHOOK_RETENTION_DAYS: days(30),
  JOB_RETENTION_DAYS: days(30),
  /** The audit trail: a year by default, so a change can be traced back through an annual review. */
  AUDIT_RETENTION_DAYS: days(365),
  EMBEDDED_DB: z.preprocess(
    emptyToUndefined,
    z
      .enum(["0", "1"], { error: "must be 1 (use the embedded PostgreSQL) or unset" })
      .optional()
      .transform((v) => v === "1"),
  ),
  LOG_LEVEL: z.preprocess(
    emptyToUndefined,
    z.enum(["fatal", "error", "warn", "info", "debug", "trace", "silent"]).default("info"),
  ),
});

export type Config = Omit<z.infer<typeof schema>, "APP_BASE_URL"> & {
  APP_BASE_URL: string;
  /** `$APP_BASE_URL/oauth/callback` */
  redirectUri: string;
};

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`Invalid configuration:\n${problems.map((p) => `  - ${p}`).join("\n")}`);
    this.name = "ConfigError";
  }
}

/** Bootstrap keys have full access: under `npm start` each must be long enough not to be guessed. */
export const MIN_BOOTSTRAP_KEY_LENGTH = 32;

export interface LoadOptions {
  /**
   * `npm start`: production rules on top of the schema (bootstrap keys of at least 32 characters).
   * Tests and the demo build their configuration without them.
   */
  strict?: boolean;
  /**
   * The production server (`npm start`; NODE_ENV=production means the same): data is kept in a real
   * PostgreSQL, the embedded one being a beta build for the demo, the tests and a deliberate
   * `EMBEDDED_DB=1` trial.
   */
  production?: boolean;
}

/** Production rules, checked even when other settings are wrong; a key is named by its position, never shown. */
function strictProblems(env: NodeJS.ProcessEnv): string[] {
  const problems = bootstrapKeys(env.API_KEYS ?? "").flatMap(({ key }, i) =>
    key.length < MIN_BOOTSTRAP_KEY_LENGTH
      ? [
          `API_KEYS entry #${i + 1} is shorter than ${MIN_BOOTSTRAP_KEY_LENGTH} characters: use a long random key (openssl rand -base64 32)`,
        ]
      : [],
  );
  const metricsToken = emptyToUndefined(env.METRICS_TOKEN);
  if (typeof metricsToken === "string" && metricsToken.length < MIN_BOOTSTRAP_KEY_LENGTH) {
    problems.push(
      `METRICS_TOKEN is shorter than ${MIN_BOOTSTRAP_KEY_LENGTH} characters: use a long random token (openssl rand -base64 32)`,
    );
  }
  return problems;
}

const NEEDS_DATABASE =
  "DATABASE_URL is required in production: a postgresql:// connection string. The embedded PostgreSQL " +
  "is a beta build meant for trials; to use it anyway set EMBEDDED_DB=1 (or run `npm run demo`)";

/**
 * The only reader of the environment. Every problem is collected and reported at once,
 * so an operator fixes the whole configuration in one go.
 */
export function loadConfig(env: NodeJS.ProcessEnv = process.env, options: LoadOptions = {}): Config {
  const parsed = schema.safeParse(env);
  const problems = parsed.success ? [] : parsed.error.issues.map((issue) => `${issue.path.join(".")} ${issue.message}`);
  if (options.strict) problems.push(...strictProblems(env));
  const production = options.production === true || env.NODE_ENV === "production";
  if (production && !emptyToUndefined(env.DATABASE_URL) && env.EMBEDDED_DB !== "1") problems.unshift(NEEDS_DATABASE);
  if (!parsed.success || problems.length > 0) throw new ConfigError(problems);
  const base = parsed.data.APP_BASE_URL ?? `http://localhost:${parsed.data.PORT}`;
  return { ...parsed.data, APP_BASE_URL: base, redirectUri: `${base}/oauth/callback` };
}

/** `.env` fills in what the real environment leaves unset; the environment always wins. */
export function readDotenv(file = path.resolve(".env"), env: NodeJS.ProcessEnv = process.env): NodeJS.ProcessEnv {
  if (!fs.existsSync(file)) return env;
  const fromFile = parseDotenv(fs.readFileSync(file));
  return { ...fromFile, ...env };
}
