/**
 * Corrections to the official OpenAPI files, each with the reason it is needed.
 * They are applied to in-memory copies only (the files in ./openapi stay byte-identical to
 * HighLevel's) and are skipped when the sandbox runs with `strictOpenApi: true`.
 */

type Json = Record<string, unknown>;

export interface OpenApiOverride {
  file: string;
  why: string;
  apply(doc: Json): void;
}

function schema(doc: Json, name: string): Json {
  const schemas = (doc.components as Json | undefined)?.schemas as Json | undefined;
  const found = schemas?.[name] as Json | undefined;
  if (!found) throw new Error(`openapi override: schema ${name} not found`);
  return found;
}

export const OPENAPI_OVERRIDES: OpenApiOverride[] = [
  {
    file: "calendars.json",
    why:
      "BlockSlot{Create,Edit}RequestDTO mark calendarId required, but their own property descriptions " +
      "(and HighLevel's documentation) say 'Either calendarId or assignedUserId can be set, not both'. Only locationId " +
      "stays required here; calendar-routes.ts enforces exactly one of calendarId / assignedUserId.",
    apply(doc) {
      for (const name of ["BlockSlotCreateRequestDTO", "BlockSlotEditRequestDTO"]) {
        const s = schema(doc, name);
        s.required = (s.required as string[]).filter((p) => p !== "calendarId");
      }
    },
  },
];
