import { z } from "zod";
import type { ErrorCode } from "../errors";
import { STATUS } from "./errors";
import type { Operation, SuccessResponse } from "./operation";

/**
 * The API as OpenAPI 3.1, assembled from the operations the capabilities mount (src/http/operation.ts),
 * with the same zod schemas that validate requests and type the handlers' answers.
 */
type JsonSchema = Record<string, unknown>;

/** JSON Schema 2020-12 for a zod schema; date-time regexes are dropped for readability. */
export function jsonSchema(schema: z.ZodType, io: "input" | "output" = "input"): JsonSchema {
  const out = z.toJSONSchema(schema, { io, target: "draft-2020-12", unrepresentable: "any" }) as JsonSchema;
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

const problem = z
  .object({
    type: z.string(),
    title: z.string(),
    status: z.number().int(),
    detail: z.string(),
    code: z.string().meta({ description: "Stable machine word: see each operation's error responses." }),
    errors: z.array(z.object({ path: z.string(), message: z.string() })).optional(),
  })
  .meta({ description: "RFC 9457 problem details (application/problem+json)." });

const ref = (name: string) => ({ $ref: `#/components/schemas/${name}` });
const example = (named: { example?: unknown }) => (named.example === undefined ? {} : { example: named.example });

/** `/api/x/:id` → `/api/x/{id}` */
export const openApiPath = (path: string) => path.replace(/:(\w+)/g, "{$1}");

function parameters(op: Operation): JsonSchema[] {
  const params: JsonSchema[] = [];
  for (const [where, schema] of [
    ["path", op.params],
    ["query", op.query],
  ] as const) {
    if (!schema) continue;
    const json = jsonSchema(schema);
    const required = new Set((json.required as string[] | undefined) ?? []);
    for (const [name, prop] of Object.entries((json.properties ?? {}) as Record<string, JsonSchema>)) {
      const { description, ...rest } = prop;
      params.push({ name, in: where, required: where === "path" || required.has(name), description, schema: rest });
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

/** Named schemas and which side of the wire they describe (a request's input, an answer's output). */
type Components = Map<string, { schema: z.ZodType; io: "input" | "output" }>;

function success(r: SuccessResponse, named: Components): JsonSchema {
  if (r.body) named.set(r.body.name, { schema: r.body.schema, io: "output" });
  return {
    description: r.description,
    ...(r.headers
      ? {
          headers: Object.fromEntries(
            Object.entries(r.headers).map(([h, d]) => [h, { description: d, schema: { type: "string" } }]),
          ),
        }
      : {}),
    ...(r.body ? { content: { "application/json": { schema: ref(r.body.name), ...example(r.body) } } } : {}),
  };
}

/** Error answers grouped by status, each code with what it means for this operation. */
function errorResponses(op: Operation): Record<string, JsonSchema> {
  const errors: Partial<Record<ErrorCode, string>> = {
    ...(op.auth === "apiKey"
      ? {
          unauthorized: "No API key, or not a valid one.",
          too_many_attempts: "Too many failed authentications from this address; wait `Retry-After` seconds.",
        }
      : {}),
    ...op.errors,
  };
  const byStatus = new Map<number, string[]>();
  for (const [code, meaning] of Object.entries(errors) as [ErrorCode, string][]) {
    const status = STATUS[code];
    byStatus.set(status, [...(byStatus.get(status) ?? []), `\`${code}\`: ${meaning}`]);
  }
  if (op.method !== "get" || op.params || op.query) {
    const invalid = byStatus.get(400) ?? [];
    if (!invalid.some((line) => line.startsWith("`invalid_request`")))
      byStatus.set(400, [...invalid, "`invalid_request`: Invalid input, each field named in `errors`."]);
  }
  return Object.fromEntries(
    [...byStatus].map(([status, lines]) => [
      String(status),
      { description: lines.join("\n\n"), content: { "application/problem+json": { schema: ref("Problem") } } },
    ]),
  );
}

/** The OpenAPI 3.1 document, built once per process from the mounted operations. */
export function openApiDocument(serverUrl: string, operations: readonly Operation[]): JsonSchema {
  const named: Components = new Map();
  const paths: Record<string, Record<string, unknown>> = {};
  for (const op of operations) {
    if (op.body) named.set(op.body.name, { schema: op.body.schema, io: "input" });
    const responses: Record<string, JsonSchema> = {};
    for (const r of [op.response, ...(op.alsoResponds ?? [])]) responses[String(r.status)] = success(r, named);
    (paths[openApiPath(op.path)] ??= {})[op.method] = {
      tags: [op.tag],
      summary: op.summary,
      ...(op.description ? { description: op.description } : {}),
      operationId: op.id,
      parameters: parameters(op),
      ...(op.body
        ? {
            requestBody: {
              required: true,
              content: {
                "application/json": { schema: ref(op.body.name), ...example(op.body) },
                ...Object.fromEntries(
                  Object.entries(op.body.alsoAccepts ?? {}).map(([type, description]) => [
                    type,
                    { schema: { type: "string", description } },
                  ]),
                ),
              },
            },
          }
        : {}),
      responses: { ...responses, ...errorResponses(op) },
      ...(op.auth === "none" ? { security: [] } : {}),
    };
  }
  const schemas: Record<string, JsonSchema> = { Problem: jsonSchema(problem, "output") };
  for (const [name, { schema, io }] of named) schemas[name] ??= jsonSchema(schema, io);
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
      schemas,
    },
  };
}
