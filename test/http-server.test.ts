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

describe("the app's V8 flags", () => {
  it("yield to the same flag given on the node command line", () => {
    expect(applyV8Flags(["--no-liftoff-only"])).toEqual(["--heap-growing-percent=100"]);
    expect(applyV8Flags(["--heap_growing_percent=50", "--liftoff-only"])).toEqual([]);
    expect(applyV8Flags([])).toEqual(["--liftoff-only", "--heap-growing-percent=100"]);
  });
});
