import type { IncomingHttpHeaders } from "node:http";
import Ajv, { type ErrorObject, type ValidateFunction } from "ajv";
import addFormats from "ajv-formats";
import {
  extractOperations,
  loadDocuments,
  matchOperation,
  pointerSegment,
  resolveRef,
  type LoadedDocument,
  type Operation,
} from "./openapi-loader";

type Json = Record<string, unknown>;

export type IssueLocation = "header" | "query" | "path" | "body" | "content-type" | "security";

export interface ValidationIssue {
  in: IssueLocation;
  /** Parameter name, for header/query/path issues. */
  name?: string;
  message: string;
}

export interface SecurityRequirement {
  /** Scheme name, e.g. "Agency-Access-Only" or "bearer". */
  scheme: string;
  scopes: string[];
  definition: Json;
}

export interface RequestToValidate {
  method: string;
  path: string;
  headers: IncomingHttpHeaders;
  query: Record<string, unknown>;
  body: unknown;
  /** Whether the request carried a body at all (content-length > 0 or chunked). */
  hasBody: boolean;
}

export interface ValidationResult {
  operation?: Operation;
  pathParams: Record<string, string>;
  issues: ValidationIssue[];
  /** Alternatives (OR) of scheme sets (AND), as in the operation's `security`. */
  security: SecurityRequirement[][];
}

const FORM_TYPES = new Set(["application/x-www-form-urlencoded", "multipart/form-data"]);

/**
 * Checks a request against the operation of the OpenAPI files that matches its method and
 * path: required headers (e.g. the Version enum), query and path parameters, Authorization
 * presence, content type and body schema. Query, header and form values arrive as strings,
 * so those are validated with type coercion; JSON bodies are validated exactly.
 */
export class OpenApiValidator {
  readonly documents: LoadedDocument[];
  readonly operations: Operation[];
  private readonly exact: Ajv;
  private readonly coercing: Ajv;
  private readonly compiled = new Map<string, ValidateFunction>();

  constructor(strict = false) {
    this.documents = loadDocuments(strict);
    this.operations = extractOperations(this.documents);
    this.exact = this.createAjv(false);
    this.coercing = this.createAjv(true);
  }

  private createAjv(coerceTypes: boolean): Ajv {
    // strict:false because OpenAPI schemas carry `example` and other non-JSON-Schema keywords.
    const ajv = new Ajv({ strict: false, allErrors: true, validateSchema: false, coerceTypes, logger: false });
    addFormats(ajv);
    for (const format of collectFormats(this.documents)) if (!ajv.formats[format]) ajv.addFormat(format, true);
    for (const d of this.documents) ajv.addSchema(d.doc, d.id);
    return ajv;
  }

  private validator(ajv: Ajv, documentId: string, pointer: string): ValidateFunction {
    const key = `${ajv === this.exact ? "exact" : "coerce"}:${documentId}#${pointer}`;
    let fn = this.compiled.get(key);
    if (!fn) {
      fn = ajv.getSchema(`${documentId}#${pointer}`);
      if (!fn) throw new Error(`sandbox: no schema at ${documentId}#${pointer}`);
      this.compiled.set(key, fn);
    }
    return fn;
  }

  match(method: string, path: string): ReturnType<typeof matchOperation> {
    return matchOperation(this.operations, method, path);
  }

  validate(req: RequestToValidate): ValidationResult {
    const found = this.match(req.method, req.path);
    if (!found) return { pathParams: {}, issues: [], security: [] };
    const { operation, pathParams } = found;
    const issues: ValidationIssue[] = [];
    const security = this.securityOf(operation);
    if (security.length > 0 && !security.some((alt) => alt.length === 0) && !bearerToken(req.headers)) {
      issues.push({ in: "security", message: "Authorization header with a Bearer token is required" });
    }
    for (const { param, pointer } of operation.parameters) {
      issues.push(...this.checkParameter(operation, param, pointer, req, pathParams));
    }
    issues.push(...this.checkBody(operation, req));
    return { operation, pathParams, issues, security };
  }

  /** What in a JSON answer breaks the schema the operation declares for `status` (the sandbox's own tests). */
  responseIssues(operationId: string, status: number, body: unknown): string[] {
    const operation = this.operations.find((o) => o.operationId === operationId);
    if (!operation) throw new Error(`sandbox: no operation ${operationId}`);
    const pointer = `${operation.pointer}/responses/${status}/content/${pointerSegment("application/json")}/schema`;
    const fn = this.validator(this.exact, operation.document.id, pointer);
    return fn(body) ? [] : (fn.errors ?? []).map((e) => describe("response", e));
  }

  private securityOf(operation: Operation): SecurityRequirement[][] {
    const doc = operation.document.doc;
    const requirements = (operation.op.security ?? doc.security ?? []) as Record<string, string[]>[];
    const schemes = ((doc.components as Json | undefined)?.securitySchemes ?? {}) as Record<string, Json>;
    return requirements.map((requirement) =>
      Object.entries(requirement).map(([scheme, scopes]) => ({ scheme, scopes, definition: schemes[scheme] ?? {} })),
    );
  }

  private checkParameter(
    operation: Operation,
    param: Json,
    pointer: string,
    req: RequestToValidate,
    pathParams: Record<string, string>,
  ): ValidationIssue[] {
    const name = String(param.name);
    const where = String(param.in) as "header" | "query" | "path" | "cookie";
    if (where === "cookie" || !param.schema) return [];
    let value: unknown =
      where === "header" ? req.headers[name.toLowerCase()] : where === "query" ? req.query[name] : pathParams[name];
    if (value === undefined || value === "") {
      if (!param.required) return [];
      return [
        { in: where, name, message: `${where === "header" ? "header" : `${where} parameter`} ${name} is required` },
      ];
    }
    const schema = param.schema as Json;
    const label = where === "header" ? `header ${name}` : `${where} parameter ${name}`;
    if (schema.type === "array" && !Array.isArray(value)) value = [value];
    if (schema.type !== "array" && Array.isArray(value)) {
      return [{ in: where, name, message: `${label} must be given once` }];
    }
    const fn = this.validator(this.coercing, operation.document.id, `${pointer}/schema`);
    if (fn(value)) return [];
    return (fn.errors ?? []).map((e) => ({ in: where, name, message: describe(label, e) }));
  }

  private checkBody(operation: Operation, req: RequestToValidate): ValidationIssue[] {
    if (!operation.op.requestBody) return [];
    const basePointer = `${operation.pointer}/requestBody`;
    const { node: body, pointer } = resolveRef(operation.document, operation.op.requestBody as Json, basePointer);
    if (!req.hasBody) return body.required ? [{ in: "body", message: "request body is required" }] : [];
    const content = (body.content ?? {}) as Json;
    const declared = Object.keys(content);
    const contentType =
      String(req.headers["content-type"] ?? "")
        .split(";")[0]
        ?.trim()
        .toLowerCase() ?? "";
    const mediaType = declared.find((t) => t.toLowerCase() === contentType || mediaRangeMatches(t, contentType));
    if (!mediaType) {
      return [
        {
          in: "content-type",
          message: `Content-Type ${contentType || "(none)"} is not accepted; send ${declared.join(" or ")}`,
        },
      ];
    }
    if (!(content[mediaType] as Json).schema) return [];
    const form = FORM_TYPES.has(mediaType.toLowerCase());
    const fn = this.validator(
      form ? this.coercing : this.exact,
      operation.document.id,
      `${pointer}/content/${pointerSegment(mediaType)}/schema`,
    );
    // Coercion rewrites its input: validate a copy so the route still sees what was sent.
    const data = form ? structuredClone(req.body) : req.body;
    if (fn(data)) return [];
    return (fn.errors ?? []).map((e) => ({ in: "body", message: describe("body", e) }));
  }
}

function mediaRangeMatches(range: string, contentType: string): boolean {
  const [type, subtype] = range.toLowerCase().split("/");
  const [ctype] = contentType.split("/");
  return subtype === "*" && (type === "*" || type === ctype);
}

export function bearerToken(headers: IncomingHttpHeaders): string | undefined {
  const m = /^Bearer\s+(\S+)\s*$/i.exec(headers.authorization ?? "");
  return m?.[1];
}

/** class-validator-like wording: "body.locationId is required", "header Version must be one of: …". */
function describe(label: string, e: ErrorObject): string {
  const where = label + e.instancePath.replace(/\//g, ".");
  switch (e.keyword) {
    case "required":
      return `${where}.${String((e.params as { missingProperty: string }).missingProperty)} is required`;
    case "enum":
      return `${where} must be one of: ${((e.params as { allowedValues: unknown[] }).allowedValues ?? []).join(", ")}`;
    case "type":
      return `${where} must be ${String((e.params as { type: string }).type)}`;
    default:
      return `${where} ${e.message ?? "is invalid"}`;
  }
}

function collectFormats(documents: LoadedDocument[]): Set<string> {
  const formats = new Set<string>();
  const walk = (node: unknown): void => {
    if (Array.isArray(node)) return node.forEach(walk);
    if (!node || typeof node !== "object") return;
    const obj = node as Json;
    if (typeof obj.format === "string" && typeof obj.type === "string") formats.add(obj.format);
    Object.values(obj).forEach(walk);
  };
  documents.forEach((d) => walk(d.doc));
  return formats;
}

const cache = new Map<boolean, OpenApiValidator>();

/** Loading and compiling the files is the slow part: one validator per process and mode. */
export function getValidator(strict = false): OpenApiValidator {
  let validator = cache.get(strict);
  if (!validator) {
    validator = new OpenApiValidator(strict);
    cache.set(strict, validator);
  }
  return validator;
}
