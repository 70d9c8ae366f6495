import crypto from "node:crypto";
import type { Express } from "express";
import type { IncomingMessage } from "node:http";
import type { Logger } from "pino";

declare module "node:http" {
  interface IncomingMessage {
    /** The request id: the caller's X-Request-Id, or a new one. Sent back as X-Request-Id. */
    id: string;
    /** The app's logger bound to this request's id. */
    log: Logger;
  }
}

/** Probes would fill the log with nothing an operator needs. */
const QUIET = new Set(["/healthz", "/readyz"]);

const CHILD = Symbol("request logger");

/**
 * One line per request when its response ends: id, method, URL with secret parameters blanked,
 * status and time; nothing from the headers (cookies, API keys). pino-http did the same, but it
 * built two child loggers per request whether anything used them or not: a tenth of all memory
 * allocated under load (DECISIONS.md). `req.log` is a getter on this app's request prototype, so
 * the child logger is made only when a route asks for it.
 */
export function useRequestLog(app: Express, log: Logger): void {
  Object.defineProperty(app.request, "log", {
    get(this: IncomingMessage & { [CHILD]?: Logger }) {
      return (this[CHILD] ??= log.child({ reqId: this.id }));
    },
  });
  app.use((req, res, next) => {
    const given = req.headers["x-request-id"];
    const id = (typeof given === "string" && given.slice(0, 100)) || crypto.randomUUID();
    req.id = id;
    res.setHeader("X-Request-Id", id);
    if (QUIET.has(req.url)) return next();

    const started = performance.now();
    res.once("close", () => {
      const status = res.statusCode;
      const record = {
        // The logger's `req` serializer blanks secret query parameters (src/logger.ts).
        req: { id, method: req.method, url: req.originalUrl },
        res: { statusCode: status },
        responseTime: Math.round(performance.now() - started),
      };
      if (!res.writableFinished) log.warn(record, "request aborted before the answer was sent");
      else if (status >= 500) log.error(record, "request errored");
      // A 4xx is the caller's mistake, answered and explained to the caller: nothing for the
      // operator to act on, so it stays out of a warn-level log (the demo's terminal).
      else log.info(record, "request completed");
    });
    next();
  });
}
