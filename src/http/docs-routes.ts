import path from "node:path";
import express, { Router } from "express";
import type { Operation } from "./operation";
import { openApiDocument } from "./openapi";

/** Swagger UI's browser build, from npm: the reference is rendered by a maintained viewer, no CDN. */
const SWAGGER_UI = path.dirname(require.resolve("swagger-ui-dist/package.json"));

/**
 * `/api/openapi.json` and `/api/docs`: public, so integrators can read them before they have a key.
 * The page is Swagger UI over the same document; "Try it out" sends requests with the key given
 * under "Authorize".
 */
export function docsRoutes(baseUrl: string, operations: readonly Operation[]): Router {
  const router = Router();
  const document = openApiDocument(baseUrl, operations);
  router.get("/api/openapi.json", (_req, res) => {
    res.json(document);
  });
  router.use("/api/docs/assets", express.static(SWAGGER_UI, { maxAge: "1d", index: false, fallthrough: false }));
  router.get("/api/docs", (_req, res) => {
    res.render("api-docs");
  });
  return router;
}
