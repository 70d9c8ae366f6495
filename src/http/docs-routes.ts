import { Router } from "express";
import type { Operation } from "./operation";
import { openApiDocument, openApiPath } from "./openapi";

/** Human-readable constraints of a JSON Schema, e.g. "1–100 characters". */
function rules(schema: Record<string, unknown> = {}): string {
  const parts: string[] = [];
  if (schema.minLength !== undefined || schema.maxLength !== undefined)
    parts.push(`${schema.minLength ?? 0}–${schema.maxLength ?? "∞"} characters`);
  if (schema.pattern) parts.push(`pattern ${String(schema.pattern)}`);
  if (schema.enum) parts.push(`one of ${(schema.enum as string[]).join(", ")}`);
  return parts.join("; ");
}

/** `/api/openapi.json` and `/api/docs`: public, so integrators can read them before they have a key. */
export function docsRoutes(baseUrl: string, operations: readonly Operation[]): Router {
  const router = Router();
  const document = openApiDocument(baseUrl, operations);
  const paths = document.paths as Record<string, Record<string, Record<string, unknown>>>;
  const schemas = (document.components as { schemas: Record<string, unknown> }).schemas;
  const documented = operations.map((op) => {
    const path = openApiPath(op.path);
    const spec = paths[path]![op.method]!;
    return {
      ...op,
      path,
      parameters: spec.parameters as Record<string, unknown>[],
      body: op.body ? schemas[op.body.name] : undefined,
      responses: spec.responses as Record<string, { description: string }>,
    };
  });
  router.get("/api/openapi.json", (_req, res) => {
    res.json(document);
  });
  router.get("/api/docs", (_req, res) => {
    res.render("api-docs", { operations: documented, rules });
  });
  return router;
}
