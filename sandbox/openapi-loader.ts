import fs from "node:fs";
import path from "node:path";
import { OPENAPI_OVERRIDES } from "./openapi-overrides";

type Json = Record<string, unknown>;

/** Base URIs given to the documents so their "../common/common-schemas.json#…" references resolve. */
const DOCUMENTS = [
  { file: "oauth.json", id: "https://sandbox.invalid/oauth/oauth.json" },
  { file: "calendars.json", id: "https://sandbox.invalid/calendars/calendars.json" },
  { file: "locations.json", id: "https://sandbox.invalid/locations/locations.json" },
  { file: "common-schemas.json", id: "https://sandbox.invalid/common/common-schemas.json" },
];

const METHODS = ["get", "put", "post", "delete", "patch", "head", "options"];

export interface LoadedDocument {
  file: string;
  id: string;
  doc: Json;
}

export interface Operation {
  operationId: string;
  method: string;
  pathTemplate: string;
  /** Where the operation sits in its document, as a JSON pointer. */
  pointer: string;
  document: LoadedDocument;
  op: Json;
  /** Parameters of the path item and the operation (operation wins), $refs resolved. */
  parameters: { param: Json; pointer: string }[];
  regex: RegExp;
  paramNames: string[];
  /** Literal segments: used to prefer /calendars/blocked-slots over /calendars/{calendarId}. */
  literalSegments: number;
}

/** The copies in ./openapi (the sandbox always runs from source, never from dist/). */
const OPENAPI_DIR = path.join(__dirname, "openapi");

export function loadDocuments(strict: boolean): LoadedDocument[] {
  return DOCUMENTS.map(({ file, id }) => {
    const doc = JSON.parse(fs.readFileSync(path.join(OPENAPI_DIR, file), "utf8")) as Json;
    if (!strict) for (const o of OPENAPI_OVERRIDES) if (o.file === file) o.apply(doc);
    convertOpenApi30(doc);
    doc.$id = id;
    return { file, id, doc };
  });
}

/**
 * OpenAPI 3.0 schemas are not JSON Schema: `nullable: true` must become a "null" type
 * (ajv only accepts `nullable` next to `type`, and many specs put it beside $ref).
 */
function convertOpenApi30(node: unknown): void {
  if (Array.isArray(node)) return node.forEach(convertOpenApi30);
  if (!node || typeof node !== "object") return;
  const obj = node as Json;
  if (typeof obj.nullable === "boolean") {
    if (obj.nullable) {
      if (typeof obj.type === "string") obj.type = [obj.type, "null"];
      if (Array.isArray(obj.enum) && !obj.enum.includes(null)) obj.enum = [...(obj.enum as unknown[]), null];
    }
    delete obj.nullable;
  }
  Object.values(obj).forEach(convertOpenApi30);
}

export function pointerSegment(segment: string): string {
  return encodeURIComponent(segment.replace(/~/g, "~0").replace(/\//g, "~1"));
}

/** Resolves a local "#/…" $ref (parameters and request bodies may be references). */
function resolveLocal(doc: Json, node: Json, pointer: string): { node: Json; pointer: string } {
  const ref = node.$ref;
  if (typeof ref !== "string" || !ref.startsWith("#/")) return { node, pointer };
  let target: unknown = doc;
  for (const part of ref.slice(2).split("/")) {
    target = (target as Json)[part.replace(/~1/g, "/").replace(/~0/g, "~")];
  }
  return resolveLocal(doc, target as Json, `/${ref.slice(2).split("/").map(encodeURIComponent).join("/")}`);
}

export function resolveRef(document: LoadedDocument, node: Json, pointer: string): { node: Json; pointer: string } {
  return resolveLocal(document.doc, node, pointer);
}

export function extractOperations(documents: LoadedDocument[]): Operation[] {
  const operations: Operation[] = [];
  for (const document of documents) {
    const paths = (document.doc.paths ?? {}) as Json;
    for (const [pathTemplate, item] of Object.entries(paths)) {
      const pathItem = item as Json;
      const itemPointer = `/paths/${pointerSegment(pathTemplate)}`;
      for (const method of METHODS) {
        const op = pathItem[method] as Json | undefined;
        if (!op) continue;
        const pointer = `${itemPointer}/${method}`;
        const byKey = new Map<string, { param: Json; pointer: string }>();
        const collect = (list: unknown, base: string) =>
          ((list as Json[] | undefined) ?? []).forEach((p, i) => {
            const r = resolveLocal(document.doc, p, `${base}/parameters/${i}`);
            byKey.set(`${String(r.node.in)}:${String(r.node.name)}`, { param: r.node, pointer: r.pointer });
          });
        collect(pathItem.parameters, itemPointer);
        collect(op.parameters, pointer);
        const { regex, names } = templateRegex(pathTemplate);
        operations.push({
          operationId: String(op.operationId ?? `${method} ${pathTemplate}`),
          method: method.toUpperCase(),
          pathTemplate,
          pointer,
          document,
          op,
          parameters: [...byKey.values()],
          regex,
          paramNames: names,
          literalSegments: trimSlash(pathTemplate)
            .split("/")
            .filter((s) => s && !s.startsWith("{")).length,
        });
      }
    }
  }
  return operations.sort((a, b) => b.literalSegments - a.literalSegments);
}

function trimSlash(p: string): string {
  return p.length > 1 && p.endsWith("/") ? p.slice(0, -1) : p;
}

function templateRegex(template: string): { regex: RegExp; names: string[] } {
  const names: string[] = [];
  const source = trimSlash(template)
    .split("/")
    .map((segment) =>
      segment.replace(/\{([^}]+)\}|[^{]+/g, (part, name?: string) => {
        if (name) {
          names.push(name);
          return "([^/]+)";
        }
        return part.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
      }),
    )
    .join("/");
  return { regex: new RegExp(`^${source}/?$`), names };
}

export function matchOperation(
  operations: Operation[],
  method: string,
  requestPath: string,
): { operation: Operation; pathParams: Record<string, string> } | undefined {
  for (const operation of operations) {
    if (operation.method !== method.toUpperCase()) continue;
    const m = operation.regex.exec(requestPath);
    if (!m) continue;
    const pathParams: Record<string, string> = {};
    operation.paramNames.forEach((name, i) => (pathParams[name] = decodeURIComponent(m[i + 1] ?? "")));
    return { operation, pathParams };
  }
  return undefined;
}
