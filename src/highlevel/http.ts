import { Pool } from "undici";
import {
  ClientRejectedError,
  HighLevelApiError,
  HighLevelUnreachableError,
  InvalidAccessTokenError,
  InvalidGrantError,
  LocationInactiveError,
  MissingScopeError,
} from "./errors";

export interface HighLevelHttpOptions {
  baseUrl: string;
  /** Per request. Kept short so a refresh lock is never held for long. */
  timeoutMs?: number;
  /** Open connections to HighLevel at most (keep-alive, reused). */
  connections?: number;
  /** Told of every call `send` made: its operation, HTTP status (`error`: no answer) and time taken. */
  onAnswer?: AnswerObserver;
}

export type AnswerObserver = (operation: string, status: number | "error", seconds: number) => void;

export interface HighLevelRequest {
  method: "GET" | "POST" | "PUT" | "DELETE";
  /** Below the base URL, e.g. `/calendars/events/block-slots`. */
  url: string;
  params?: Record<string, string | number | boolean | undefined>;
  /** An object is sent as JSON; a string as it is (the caller sets Content-Type). */
  data?: unknown;
  headers?: Record<string, string>;
}

export interface HighLevelResponse {
  status: number;
  headers: Record<string, unknown>;
  data: unknown;
}

/** The one connection pool to HighLevel: every call to HighLevel goes through `request`. */
export interface HighLevelHttp {
  request(req: HighLevelRequest): Promise<HighLevelResponse>;
  close(): Promise<void>;
  readonly onAnswer?: AnswerObserver;
}

/** Error codes meaning the request never left this machine, so HighLevel cannot have acted on it. */
const NOT_SENT = new Set(["ECONNREFUSED", "ENOTFOUND", "EAI_AGAIN", "UND_ERR_CONNECT_TIMEOUT"]);
const TIMED_OUT = new Set(["UND_ERR_HEADERS_TIMEOUT", "UND_ERR_BODY_TIMEOUT", "UND_ERR_CONNECT_TIMEOUT", "ETIMEDOUT"]);

/** A transport failure, kept apart from HighLevel's answers; `send` turns it into HighLevelUnreachableError. */
export class TransportError extends Error {
  constructor(readonly code: string) {
    super(code);
  }
}

function errorCode(err: unknown): string {
  const e = err as { code?: unknown; cause?: { code?: unknown } };
  const code = typeof e?.code === "string" ? e.code : typeof e?.cause?.code === "string" ? e.cause.code : undefined;
  return code ?? "failed";
}

/** JSON when it parses, else the text (HighLevel's errors are sometimes plain text or HTML). */
function parseBody(text: string): unknown {
  if (!text) return "";
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return text;
  }
}

/**
 * undici's pool with keep-alive connections (DECISIONS.md: it costs a quarter of the CPU axios
 * did on the create path). No redirects are followed and nothing is retried here: whether a
 * request may be sent again is for the callers, who know whether it has an effect.
 */
export function createHighLevelHttp(options: HighLevelHttpOptions): HighLevelHttp {
  const base = new URL(options.baseUrl);
  const basePath = base.pathname.replace(/\/+$/, "");
  const timeout = options.timeoutMs ?? 15_000;
  const pool = new Pool(base.origin, {
    connections: options.connections ?? 64,
    headersTimeout: timeout,
    bodyTimeout: timeout,
    connect: { timeout },
    keepAliveTimeout: 4_000,
  });
  return {
    async request(req) {
      const query = new URLSearchParams();
      for (const [k, v] of Object.entries(req.params ?? {})) if (v !== undefined) query.append(k, String(v));
      const qs = query.toString();
      const json = req.data !== undefined && typeof req.data !== "string";
      const headers: Record<string, string> = { accept: "application/json", ...req.headers };
      if (json && !Object.keys(headers).some((h) => h.toLowerCase() === "content-type")) {
        headers["content-type"] = "application/json";
      }
      try {
        const res = await pool.request({
          method: req.method,
          path: `${basePath}${req.url}${qs ? `?${qs}` : ""}`,
          headers,
          body: req.data === undefined ? undefined : json ? JSON.stringify(req.data) : (req.data as string),
        });
        return { status: res.statusCode, headers: res.headers, data: parseBody(await res.body.text()) };
      } catch (err) {
        throw new TransportError(errorCode(err));
      }
    },
    close: () => pool.close(),
    onAnswer: options.onAnswer,
  };
}

/** The RFC 6749 §5.2 `error` code of a standard OAuth refusal (`invalid_grant`, …), if the body is one. */
function oauthErrorCode(body: unknown): string | undefined {
  if (!body || typeof body !== "object") return undefined;
  const error = (body as Record<string, unknown>).error;
  // HighLevel's own bodies put the HTTP reason ("Unauthorized") there: only a snake_case code counts.
  return typeof error === "string" && /^[a-z]+(_[a-z]+)+$/.test(error) ? error : undefined;
}

/**
 * HighLevel's message from `{message}` (string or string[]); for an RFC 6749 body the `error` code
 * with its `error_description`, so a stored reason names the code.
 */
export function highLevelMessage(body: unknown, status: number): string {
  if (body && typeof body === "object") {
    const b = body as Record<string, unknown>;
    const code = oauthErrorCode(body);
    const description = typeof b.error_description === "string" ? b.error_description : undefined;
    const message = b.message ?? (code && description ? `${code}: ${description}` : (description ?? b.error));
    if (Array.isArray(message)) return message.map(String).join("; ");
    if (typeof message === "string" && message) return message;
  }
  if (typeof body === "string" && body.trim()) return body.trim().slice(0, 300);
  return `HighLevel answered HTTP ${status}`;
}

function retryAfterSeconds(value: unknown): number | undefined {
  if (typeof value !== "string" && typeof value !== "number") return undefined;
  const seconds = Number(value);
  if (Number.isFinite(seconds)) return Math.max(0, Math.ceil(seconds));
  const date = Date.parse(String(value));
  return Number.isNaN(date) ? undefined : Math.max(0, Math.ceil((date - Date.now()) / 1000));
}

/**
 * How long a 429 asks to wait: `Retry-After` when HighLevel sends one; otherwise the window its
 * X-RateLimit-* headers give (`Retry-After` is not documented for HighLevel, those headers are).
 */
function rateLimitWait(headers: Record<string, unknown>): number | undefined {
  const retryAfter = retryAfterSeconds(headers["retry-after"]);
  if (retryAfter !== undefined) return retryAfter;
  const intervalMs = Number(headers["x-ratelimit-interval-milliseconds"]);
  return Number.isFinite(intervalMs) && intervalMs > 0 ? Math.ceil(intervalMs / 1000) : undefined;
}

/** HighLevel's words for a token without the scope, or of the wrong kind (docs/highlevel.md, "Tokens"). */
const MISSING_SCOPE = /not authorized for this scope|not allowed to access this scope/i;

/** The token endpoint authenticates the app, never an access token: its 401 is about the app's credentials. */
const TOKEN_ENDPOINT = /(^|\/)oauth\/token(\?|$)/;

export function errorFromResponse(
  status: number,
  body: unknown,
  headers: Record<string, unknown>,
  url = "",
): HighLevelApiError {
  const message = highLevelMessage(body, status);
  // Both shapes of refusal (docs/highlevel.md, "Tokens"): HighLevel's words, or the RFC's code.
  const code = oauthErrorCode(body);
  // First: "Location is not active" is temporary (the refresh token works again later), whatever
  // code an RFC 6749-style body gives it.
  if (/location is not active/i.test(message)) return new LocationInactiveError(status, message);
  if (code === "invalid_grant" || /invalid grant/i.test(message)) return new InvalidGrantError(status, message);
  // Before the 401 rule: HighLevel refusing the app's credentials is not a dead access token.
  if (code === "invalid_client" || code === "unauthorized_client" || (status === 401 && TOKEN_ENDPOINT.test(url)))
    return new ClientRejectedError(status, message);
  // Not a dead token: renewing it (or the agency's, which every sub-account depends on) cannot help.
  if (status === 401 && MISSING_SCOPE.test(message)) return new MissingScopeError(status, message);
  if (status === 401) return new InvalidAccessTokenError(status, message);
  if (status === 429) return new HighLevelApiError(status, message, rateLimitWait(headers));
  return new HighLevelApiError(status, message, retryAfterSeconds(headers["retry-after"]));
}

/**
 * Sends one request and returns the 2xx body, or throws a typed error. The thrown errors name
 * the operation, never the token or the request body.
 */
export async function send<T>(
  http: HighLevelHttp,
  operation: string,
  req: HighLevelRequest,
  onHeaders?: (headers: Record<string, unknown>, status: number) => void,
): Promise<T> {
  let response;
  const started = performance.now();
  try {
    response = await http.request(req);
  } catch (err) {
    http.onAnswer?.(operation, "error", (performance.now() - started) / 1000);
    const code = err instanceof TransportError ? err.code : errorCode(err);
    const why = TIMED_OUT.has(code) ? "timed out" : code;
    throw new HighLevelUnreachableError(`${operation}: HighLevel did not answer (${why})`, !NOT_SENT.has(code));
  }
  http.onAnswer?.(operation, response.status, (performance.now() - started) / 1000);
  onHeaders?.(response.headers, response.status);
  if (response.status >= 200 && response.status < 300) return response.data as T;
  throw errorFromResponse(response.status, response.data, response.headers, req.url);
}
