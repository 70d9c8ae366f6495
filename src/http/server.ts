import http from "node:http";
import type { Express } from "express";

/**
 * The HTTP server for the app, whose requests and responses are born with Express's prototypes.
 *
 * Express gives every request and response its own prototype with `Object.setPrototypeOf` as it
 * enters the app. V8 handles that badly: each object changes shape after it was made, and on this
 * Node the objects behind it outlive young-generation collections and pile up in the old space.
 * Measured on a bare `app.use((req, res) => res.end())`: 56k answers in 4 s with the swap,
 * 304k without it, and 4 MB promoted per collection against none (DECISIONS #21).
 *
 * Here the server makes them as instances of subclasses whose prototypes Express then finds
 * already in place, so its `setPrototypeOf` changes nothing. What a request inherits is the same.
 */
export interface AppServer extends http.Server {
  /**
   * Stops accepting connections and lets the requests under way finish, for up to `timeoutMs`;
   * then cuts what is left. Resolves once every connection is closed.
   */
  drain(timeoutMs: number): Promise<void>;
}

export function createHttpServer(app: Express): AppServer {
  let draining = false;
  class AppRequest extends http.IncomingMessage {}
  class AppResponse extends http.ServerResponse {
    // Every answer written while draining says `Connection: close`: no client sends another
    // request on a connection that is about to be closed under it.
    override writeHead(...args: [number, ...unknown[]]): this {
      if (draining && !this.headersSent) this.setHeader("Connection", "close");
      return (super.writeHead as (...a: unknown[]) => this)(...args);
    }
  }
  // Below the subclass: everything Express and this app put on `app.request` / `app.response`.
  Object.setPrototypeOf(AppRequest.prototype, app.request);
  Object.setPrototypeOf(AppResponse.prototype, app.response);
  app.request = AppRequest.prototype as Express["request"];
  app.response = AppResponse.prototype as Express["response"];
  const server = http.createServer({ IncomingMessage: AppRequest, ServerResponse: AppResponse }, app);
  const drain = (timeoutMs: number) =>
    new Promise<void>((resolve) => {
      draining = true;
      // Kept-alive connections between requests would hold close() open until they time out.
      const idle = setInterval(() => server.closeIdleConnections(), 250);
      const cut = setTimeout(() => server.closeAllConnections(), timeoutMs);
      server.close(() => {
        clearInterval(idle);
        clearTimeout(cut);
        resolve();
      });
      server.closeIdleConnections();
    });
  return Object.assign(server, { drain });
}
