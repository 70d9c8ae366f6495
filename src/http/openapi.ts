import { z } from "zod";
import { COMPONENTS, OPERATIONS, type Operation } from "./api-operations";

/**
 * The app's API as OpenAPI 3.1, built from the same zod schemas that validate requests, so the
 * document cannot drift from what the routes accept. Operations live in ./api-operations.ts.
 */
type JsonSchema = Record<string, unknown>;

/** JSON Schema 2020-12 for the input side of a zod schema; date-time regexes are dropped for readability. */
export function jsonSchema(schema: z.ZodType): JsonSchema {
  const out = z.toJSONSchema(schema, { io: "input", target: "draft-2020-12", unrepresentable: "any" }) as JsonSchema;
  delete out.$schema;
  const strip = (node: unknown): void => {
    if (!node || typeof node !== "object") return;
    const n = node as JsonSchema;
    if (n.format === "date-time") delete n.pattern;
    for (const v of Object.values(n)) strip(v);
  };
  strip(out);
  return out;
}

const ref = (name: string) => ({ $ref: `#/components/schemas/${name}` });

function parameters(op: Operation) {
  const params: JsonSchema[] = [];
  for (const [name, schema] of Object.entries(op.pathParams ?? {})) {
    params.push({ name, in: "path", required: true, schema: jsonSchema(schema) });
  }
  if (op.query) {
    const schema = jsonSchema(op.query);
    const required = new Set((schema.required as string[] | undefined) ?? []);
    for (const [name, prop] of Object.entries((schema.properties ?? {}) as Record<string, JsonSchema>)) {
      const { description, ...rest } = prop;
      params.push({ name, in: "query", required: required.has(name), description, schema: rest });
    }
  }
  if (op.idempotent) {
    params.push({
      name: "Idempotency-Key",
      in: "header",
      required: false,
      description:
        "Send a retry with the same key and body and get the first answer again, without a second effect. Kept 24 h; another body with the same key answers 409 `idempotency_conflict`.",
      schema: { type: "string", minLength: 1, maxLength: 255 },
    });
  }
  return params;
}

/** The OpenAPI 3.1 document, built once per process. */
export function openApiDocument(serverUrl: string): JsonSchema {
  const paths: Record<string, Record<string, unknown>> = {};
  for (const op of OPERATIONS) {
    const responses = Object.fromEntries(
      Object.entries({
        ...op.responses,
        ...(op.public ? {} : { "401": { description: "No API key, or not a valid one.", schema: "Problem" } }),
      }).map(([code, r]) => [
        code,
        {
          description: r.description,
          ...(r.schema
            ? {
                content: {
                  [r.schema === "Problem" ? "application/problem+json" : "application/json"]: { schema: ref(r.schema) },
                },
              }
            : {}),
        },
      ]),
    );
    (paths[op.path] ??= {})[op.method] = {
      tags: [op.tag],
      summary: op.summary,
      ...(op.description ? { description: op.description } : {}),
      operationId: op.id,
      parameters: parameters(op),
      ...(op.body
        ? { requestBody: { required: true, content: { "application/json": { schema: ref(op.bodyName!) } } } }
        : {}),
      responses,
      ...(op.public ? { security: [] } : {}),
    };
  }
  return {
    openapi: "3.1.0",
    info: {
      title: "Block Slots for HighLevel",
      version: "1",
      description:
        "Blocks calendar time in HighLevel sub-accounts with the tokens this app keeps alive. Errors are application/problem+json with a stable `code`.",
    },
    servers: [{ url: serverUrl }],
    security: [{ apiKey: [] }],
    paths,
    components: {
      securitySchemes: {
        apiKey: {
          type: "http",
          scheme: "bearer",
          description: "An API key: from API_KEYS or `npm run api-key -- create`.",
        },
      },
      schemas: Object.fromEntries(Object.entries(COMPONENTS).map(([name, schema]) => [name, jsonSchema(schema)])),
    },
  };
}
