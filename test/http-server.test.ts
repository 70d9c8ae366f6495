import http from "node:http";
import type { AddressInfo } from "node:net";
import express from "express";
import { createLogger } from "../src/logger";
import { useRequestLog } from "../src/http/request-log";
import { createHttpServer } from "../src/http/server";
import { applyV8Flags } from "../src/v8-flags";
import { LogCapture } from "./support/harness";

describe("the app's HTTP server", () => {
  it("serves Express routes with every request helper, on requests made with the app's prototypes", async () => {
    const app = express();
    const capture = new LogCapture();
    useRequestLog(app, createLogger("info", capture));
    const logs: boolean[] = [];
    app.get("/echo/:name", (req, res) => {
      logs.push(typeof req.log.info === "function");
      res.status(201).json({ name: req.params.name, header: req.get("x-test"), query: req.query.q });
    });
    const server = createHttpServer(app);
    // Before Express sees them: made with the prototypes it would otherwise swap in (DECISIONS #21).
    const born: boolean[] = [];
    server.prependListener("request", (req, res) => {
      born.push(Object.getPrototypeOf(req) === app.request && Object.getPrototypeOf(res) === app.response);
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    try {
      const { port } = server.address() as AddressInfo;
      const res = await fetch(`http://127.0.0.1:${port}/echo/ana?q=1`, { headers: { "x-test": "yes" } });
      expect(res.status).toBe(201);
      expect(res.headers.get("x-request-id")).toBeTruthy();
      expect(await res.json()).toEqual({ name: "ana", header: "yes", query: "1" });
      expect(logs).toEqual([true]);
      expect(born).toEqual([true]);
    } finally {
      await new Promise((resolve) => server.close(resolve));
    }
  });
});

describe("draining the app's HTTP server", () => {
  it("answers the request under way with Connection: close, refuses new connections, and closes kept-alive ones", async () => {
    const app = express();
    let arrived!: () => void;
    const underWay = new Promise<void>((resolve) => (arrived = resolve));
    app.get("/slow", (_req, res) => {
      arrived();
      setTimeout(() => res.json({ done: true }), 300);
    });
    app.get("/fast", (_req, res) => res.json({ done: true }));
    const server = createHttpServer(app);
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const { port } = server.address() as AddressInfo;
    const agent = new http.Agent({ keepAlive: true });
    const get = (path: string) =>
      new Promise<http.IncomingMessage>((resolve, reject) =>
        http
          .get({ port, host: "127.0.0.1", path, agent }, (res) => res.resume().on("end", () => resolve(res)))
          .on("error", reject),
      );
    try {
      // An idle kept-alive connection, and a request under way on another.
      expect((await get("/fast")).headers.connection).toBe("keep-alive");
      const slow = get("/slow");
      await underWay;
      // Would wait out the idle connection's keep-alive time-out if it were left open; the bound is far away.
      const drained = server.drain(60_000);
      await expect(get("/fast")).rejects.toThrow();
      const res = await slow;
      expect(res.statusCode).toBe(200);
      expect(res.headers.connection).toBe("close");
      await drained;
      expect(server.listening).toBe(false);
    } finally {
      agent.destroy();
    }
  });
});

describe("the app's V8 flags", () => {
  it("yield to the same flag given on the node command line", () => {
    expect(applyV8Flags(["--no-liftoff-only"])).toEqual(["--heap-growing-percent=100"]);
    expect(applyV8Flags(["--heap_growing_percent=50", "--liftoff-only"])).toEqual([]);
    expect(applyV8Flags([])).toEqual(["--liftoff-only", "--heap-growing-percent=100"]);
  });
});
