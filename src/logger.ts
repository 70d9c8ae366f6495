import pino, { type DestinationStream, type Logger } from "pino";

/**
 * Everything that could carry a secret is redacted by path, wherever it sits in a log record:
 * tokens, codes, client secrets, API keys, cookies and SSO payloads.
 */
const SECRET_KEYS = [
  "authorization",
  "cookie",
  "access_token",
  "refresh_token",
  "accessToken",
  "refreshToken",
  "code",
  "client_secret",
  "clientSecret",
  "password",
  "apiKey",
  "payload",
  "TOKEN_ENCRYPTION_KEY",
  "HIGHLEVEL_CLIENT_SECRET",
  "HIGHLEVEL_SSO_KEY",
];
const REDACT_PATHS = [
  ...SECRET_KEYS,
  ...SECRET_KEYS.map((k) => `*.${k}`),
  ...SECRET_KEYS.map((k) => `*.*.${k}`),
  'req.headers["x-api-key"]',
  'res.headers["set-cookie"]',
];

/** Query parameters whose values never reach a log line (the OAuth callback carries a code). */
const SECRET_QUERY = /([?&](?:code|state|access_token|refresh_token|token|payload)=)[^&#]*/gi;

export function redactUrl(url: string): string {
  return url.replace(SECRET_QUERY, "$1[Redacted]");
}

/**
 * Request and response records keep only what helps an operator: no headers (cookies, API
 * keys), no query object, and the URL with secret parameters blanked. pino-http must be given
 * these explicitly, or it uses its own.
 */
export const httpSerializers = {
  req: (req: { method?: string; url?: string; id?: unknown }) => ({
    id: req.id,
    method: req.method,
    url: req.url ? redactUrl(req.url) : undefined,
  }),
  res: (res: { statusCode?: number }) => ({ statusCode: res.statusCode }),
};

export function createLogger(level: string, destination?: DestinationStream): Logger {
  if (!destination) {
    // Asynchronous writes: a synchronous write per request line was a tenth of the app's CPU under load.
    const stdout = pino.destination({ sync: false });
    process.on("exit", () => stdout.flushSync());
    destination = stdout;
  }
  return pino(
    {
      level,
      redact: { paths: REDACT_PATHS, censor: "[Redacted]" },
      base: { pid: process.pid },
      serializers: { err: pino.stdSerializers.err, ...httpSerializers },
    },
    destination,
  );
}
