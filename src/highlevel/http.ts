import http from "node:http";
import https from "node:https";
import axios, { AxiosError, type AxiosInstance, type AxiosRequestConfig } from "axios";
import {
  HighLevelApiError,
  HighLevelUnreachableError,
  InvalidAccessTokenError,
  InvalidGrantError,
  LocationInactiveError,
} from "./errors";

export interface HighLevelHttpOptions {
  baseUrl: string;
  /** Per request. Kept short so a refresh lock is never held for long. */
  timeoutMs?: number;
}

/** One axios instance with keep-alive agents: every call to HighLevel goes through here. */
export function createHighLevelHttp(options: HighLevelHttpOptions): AxiosInstance {
  return axios.create({
    baseURL: options.baseUrl,
    timeout: options.timeoutMs ?? 15_000,
    httpAgent: new http.Agent({ keepAlive: true, maxSockets: 64 }),
    httpsAgent: new https.Agent({ keepAlive: true, maxSockets: 64 }),
    headers: { Accept: "application/json" },
    // Errors are mapped by `toHighLevelError`; never let axios throw its own (it carries headers).
    validateStatus: () => true,
    maxRedirects: 0,
  });
}

/** HighLevel's message from `{message}` (string or string[]), `{error_description}` or `{error}`. */
export function highLevelMessage(body: unknown, status: number): string {
  if (body && typeof body === "object") {
    const b = body as Record<string, unknown>;
    const message = b.message ?? b.error_description ?? b.error;
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

export function errorFromResponse(status: number, body: unknown, headers: Record<string, unknown>): HighLevelApiError {
  const message = highLevelMessage(body, status);
  if (/invalid grant/i.test(message)) return new InvalidGrantError(status, message);
  if (/location is not active/i.test(message)) return new LocationInactiveError(status, message);
  if (status === 401) return new InvalidAccessTokenError(status, message);
  return new HighLevelApiError(status, message, retryAfterSeconds(headers["retry-after"]));
}

/**
 * Sends one request and returns the 2xx body, or throws a typed error. The thrown errors name
 * the operation, never the token or the request body.
 */
export async function send<T>(
  http: AxiosInstance,
  operation: string,
  config: AxiosRequestConfig,
  onHeaders?: (headers: Record<string, unknown>) => void,
): Promise<T> {
  let response;
  try {
    response = await http.request(config);
  } catch (err) {
    const e = err as AxiosError;
    // ECONNREFUSED / ENOTFOUND mean nothing reached HighLevel; anything else may have.
    const notSent = e.code === "ECONNREFUSED" || e.code === "ENOTFOUND" || e.code === "EAI_AGAIN";
    const why = e.code === "ECONNABORTED" || e.code === "ETIMEDOUT" ? "timed out" : (e.code ?? "failed");
    throw new HighLevelUnreachableError(`${operation}: HighLevel did not answer (${why})`, !notSent);
  }
  onHeaders?.(response.headers as Record<string, unknown>);
  if (response.status >= 200 && response.status < 300) return response.data as T;
  throw errorFromResponse(response.status, response.data, response.headers as Record<string, unknown>);
}
