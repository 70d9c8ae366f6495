import fs from "node:fs";
import path from "node:path";
import { parse as parseDotenv } from "dotenv";
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

/** Required by `npm start`; `demo` and tests supply their own. */
const required = (message: string) => z.preprocess(emptyToUndefined, z.string({ error: message }));

const schema = z.object({
  DATABASE_URL: z.preprocess(
    emptyToUndefined,
    z
      .string()
      .refine((v) => /^postgres(ql)?:\/\//.test(v), "must be a postgresql:// connection string")
      .optional(),
  ),
  PORT: z.preprocess(emptyToUndefined, z.coerce.number().int().min(0).max(65535).default(3000)),
  APP_BASE_URL: url("the app's public URL").optional(),
  HIGHLEVEL_CLIENT_ID: required("is required: the marketplace app's Client ID"),
  HIGHLEVEL_CLIENT_SECRET: required("is required: the marketplace app's Client Secret"),
  HIGHLEVEL_SCOPES: z.preprocess(emptyToUndefined, z.string().default(DEFAULT_SCOPES)),
  HIGHLEVEL_API_URL: url("HighLevel API base").default("https://services.leadconnectorhq.com"),
  HIGHLEVEL_MARKETPLACE_URL: url("consent-page base").default("https://marketplace.gohighlevel.com"),
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
  TOKEN_ENCRYPTION_KEY: z.preprocess(
    emptyToUndefined,
    z.string({ error: "is required: 32 random bytes, base64 (openssl rand -base64 32)" }).pipe(keyring),
  ),
  API_KEYS: z.preprocess(
    emptyToUndefined,
    z
      .string()
      .default("")
      .transform((v) =>
        v
          .split(",")
          .map((k) => k.trim())
          .filter(Boolean),
      ),
  ),
  HIGHLEVEL_BURST_LIMIT: z.preprocess(emptyToUndefined, z.coerce.number().int().min(1).max(100_000).default(90)),
  HIGHLEVEL_BURST_WINDOW_MS: z.preprocess(
    emptyToUndefined,
    z.coerce.number().int().min(100).max(3_600_000).default(10_000),
  ),
  HIGHLEVEL_DAILY_LIMIT: z.preprocess(emptyToUndefined, z.coerce.number().int().min(1).default(200_000)),
  REFRESH_GIVE_UP_DAYS: z.preprocess(emptyToUndefined, z.coerce.number().min(0.001).max(365).default(7)),
  JOB_TIMEOUT_SECONDS: z.preprocess(emptyToUndefined, z.coerce.number().int().min(2).max(3600).default(120)),
  WORKER_CONCURRENCY: z.preprocess(emptyToUndefined, z.coerce.number().int().min(0).max(1000).default(200)),
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

/**
 * The only reader of the environment. Every problem is collected and reported at once,
 * so an operator fixes the whole configuration in one go.
 */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const parsed = schema.safeParse(env);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((issue) => `${issue.path.join(".")} ${issue.message}`);
    throw new ConfigError(problems);
  }
  const base = parsed.data.APP_BASE_URL ?? `http://localhost:${parsed.data.PORT}`;
  return { ...parsed.data, APP_BASE_URL: base, redirectUri: `${base}/oauth/callback` };
}

/** `.env` fills in what the real environment leaves unset; the environment always wins. */
export function readDotenv(file = path.resolve(".env"), env: NodeJS.ProcessEnv = process.env): NodeJS.ProcessEnv {
  if (!fs.existsSync(file)) return env;
  const fromFile = parseDotenv(fs.readFileSync(file));
  return { ...fromFile, ...env };
}
