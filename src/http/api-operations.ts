import { z } from "zod";
import { blockSlotBody, blockSlotListQuery, bulkItem, eventId, locationId } from "../block-slots/schemas";
import { bulkBody, CSV_COLUMNS } from "../bulk/input";
import { blockingRuleBody, ruleEndpoint } from "../rules/schemas";

/**
 * What the API offers, operation by operation, with the zod schemas that validate each request;
 * src/http/openapi.ts turns it into the OpenAPI document. A new route adds its operation here.
 */
export interface Operation {
  id: string;
  method: "get" | "post" | "put" | "delete";
  path: string;
  summary: string;
  description?: string;
  tag: string;
  pathParams?: Record<string, z.ZodType>;
  query?: z.ZodObject | z.ZodType;
  body?: z.ZodType;
  bodyName?: string;
  idempotent?: boolean;
  responses: Record<string, { description: string; schema?: string }>;
  /** Needs no API key. */
  public?: boolean;
}

const blockSlot = z
  .object({
    id: z.string(),
    locationId: z.string(),
    title: z.string().optional(),
    startTime: z.string().meta({ format: "date-time" }),
    endTime: z.string().meta({ format: "date-time" }),
    calendarId: z.string().optional(),
    assignedUserId: z.string().optional(),
  })
  .meta({ description: "HighLevel's block slot, as HighLevel returned it." });

const problem = z
  .object({
    type: z.string(),
    title: z.string(),
    status: z.number().int(),
    detail: z.string(),
    code: z.string().meta({
      description:
        "Stable machine word: invalid_request, unauthorized, forbidden, location_not_installed, reauthorization_required, location_inactive, rate_limited, upstream_error, idempotency_conflict, not_found, …",
    }),
    errors: z.array(z.object({ path: z.string(), message: z.string() })).optional(),
  })
  .meta({ description: "RFC 9457 problem details (application/problem+json)." });

const installations = z.object({
  companies: z.array(
    z.object({
      id: z.string(),
      name: z.string().nullable(),
      status: z.string(),
      tokenExpiresAt: z.string().nullable(),
      locationCount: z.number().int(),
      lastError: z.string().optional(),
    }),
  ),
  locations: z.array(
    z.object({
      id: z.string(),
      companyId: z.string().nullable(),
      name: z.string().nullable(),
      source: z.enum(["direct", "agency"]),
      status: z.enum(["active", "reauthorization_required", "inactive", "uninstalled", "failed"]),
      tokenExpiresAt: z.string().nullable(),
      lastError: z.string().optional(),
    }),
  ),
});

const counts = z.object({
  pending: z.number().int(),
  succeeded: z.number().int(),
  failed: z.number().int(),
  cancelled: z.number().int(),
});
const jobStatus = z.enum(["queued", "running", "done", "done_with_errors", "cancelled"]);
const bulkJob = z.object({
  id: z.string().meta({ format: "uuid" }),
  source: z.enum(["api", "csv", "trigger"]),
  status: jobStatus,
  total: z.number().int(),
  createdAt: z.string().meta({ format: "date-time" }),
  counts,
  items: z
    .array(
      z.object({
        index: z.number().int(),
        locationId: z.string(),
        status: z.enum(["pending", "succeeded", "failed", "cancelled"]),
        blockSlotId: z.string().optional(),
        error: z.object({ code: z.string(), detail: z.string() }).optional(),
      }),
    )
    .optional(),
});

const blockingRule = z.object({
  id: z.string().meta({ format: "uuid" }),
  name: z.string().optional(),
  source: ruleEndpoint,
  targets: z.array(ruleEndpoint),
  title: z.string().optional(),
  createdAt: z.string().meta({ format: "date-time" }),
});

export const COMPONENTS: Record<string, z.ZodType> = {
  BlockingRuleInput: blockingRuleBody,
  BlockingRule: blockingRule,
  BlockingRuleList: z.object({ rules: z.array(blockingRule) }),
  TriggerInput: bulkItem,
  BulkJobInput: bulkBody,
  BulkJobAccepted: z.object({ id: z.string(), status: jobStatus, total: z.number().int() }),
  BulkJob: bulkJob,
  BlockSlotInput: blockSlotBody,
  BlockSlot: blockSlot,
  BlockSlotList: z.object({ blockSlots: z.array(blockSlot) }),
  Installations: installations,
  Problem: problem,
};

const LOCATION = { locationId };
const SLOT_ERRORS = {
  "400": { description: "Invalid input (each field named in `errors`), or HighLevel's 400.", schema: "Problem" },
  "403": { description: "The API key's scope does not cover this location.", schema: "Problem" },
  "404": { description: "`location_not_installed`, or HighLevel does not know the event.", schema: "Problem" },
  "409": { description: "`reauthorization_required`: reinstall the app for this location.", schema: "Problem" },
  "422": { description: "HighLevel refused it; its message is in `detail`.", schema: "Problem" },
  "429": { description: "`rate_limited`: retry after `Retry-After` seconds.", schema: "Problem" },
  "502": { description: "`upstream_error`: HighLevel failed or did not answer.", schema: "Problem" },
  "503": { description: "`location_inactive`: HighLevel says the location is not active.", schema: "Problem" },
};

export const OPERATIONS: Operation[] = [
  {
    id: "listInstallations",
    method: "get",
    path: "/api/installations",
    tag: "Installations",
    summary: "Connected companies and locations",
    description: "Status and token expiry of everything the key may see. Never a token.",
    responses: { "200": { description: "Installations.", schema: "Installations" } },
  },
  {
    id: "createBlockSlot",
    method: "post",
    path: "/api/locations/{locationId}/block-slots",
    tag: "Block slots",
    summary: "Block time on a calendar or a user",
    description:
      "Creates a HighLevel block slot with the location's token. When HighLevel's answer is lost, the app looks for the block before sending it again, so a retry never blocks the time twice.",
    pathParams: LOCATION,
    body: blockSlotBody,
    bodyName: "BlockSlotInput",
    idempotent: true,
    responses: {
      "201": { description: "Created (or replayed: header `Idempotent-Replayed: true`).", schema: "BlockSlot" },
      ...SLOT_ERRORS,
      "409": {
        description: "`reauthorization_required`, or `idempotency_conflict` (key reused with another body).",
        schema: "Problem",
      },
    },
  },
  {
    id: "listBlockSlots",
    method: "get",
    path: "/api/locations/{locationId}/block-slots",
    tag: "Block slots",
    summary: "Block slots in a time window",
    pathParams: LOCATION,
    query: blockSlotListQuery,
    responses: { "200": { description: "HighLevel's blocked slots.", schema: "BlockSlotList" }, ...SLOT_ERRORS },
  },
  {
    id: "updateBlockSlot",
    method: "put",
    path: "/api/locations/{locationId}/block-slots/{eventId}",
    tag: "Block slots",
    summary: "Edit a block slot",
    description: "The full create body.",
    pathParams: { ...LOCATION, eventId },
    body: blockSlotBody,
    bodyName: "BlockSlotInput",
    responses: { "200": { description: "The updated block slot.", schema: "BlockSlot" }, ...SLOT_ERRORS },
  },
  {
    id: "submitBulkJob",
    method: "post",
    path: "/api/block-slots/bulk",
    tag: "Bulk jobs",
    summary: "Block time across many locations as one durable job",
    description: `Up to 10,000 items as JSON, or a CSV (Content-Type text/csv) with the header ${CSV_COLUMNS.join(",")}. Every item is checked first; one bad item rejects the request, naming each. Items for locations that are not installed are accepted and fail one by one. Each block is created at most once, even across crashes.`,
    body: bulkBody,
    bodyName: "BulkJobInput",
    responses: {
      "202": { description: "Queued.", schema: "BulkJobAccepted" },
      "400": {
        description: "Invalid items (each named: `items.3.endTime`, or `line 4.endTime` in a CSV).",
        schema: "Problem",
      },
      "403": { description: "A location outside the API key's scope.", schema: "Problem" },
      "415": { description: "Neither JSON nor CSV.", schema: "Problem" },
    },
  },
  {
    id: "getBulkJob",
    method: "get",
    path: "/api/block-slots/bulk/{jobId}",
    tag: "Bulk jobs",
    summary: "A bulk job's progress and each item's result",
    pathParams: { jobId: z.string().meta({ format: "uuid" }) },
    query: z.strictObject({
      items: z
        .enum(["all", "failed", "none"])
        .optional()
        .meta({ description: "Which items to list (default all); `none` for progress only." }),
    }),
    responses: {
      "200": { description: "The job.", schema: "BulkJob" },
      "404": { description: "No such job for this API key.", schema: "Problem" },
    },
  },
  {
    id: "cancelBulkJob",
    method: "delete",
    path: "/api/block-slots/bulk/{jobId}",
    tag: "Bulk jobs",
    summary: "Cancel what has not started",
    description: "Items already under way finish; their outcome is kept.",
    pathParams: { jobId: z.string().meta({ format: "uuid" }) },
    responses: {
      "200": { description: "The job, without items.", schema: "BulkJob" },
      "404": { description: "No such job for this API key.", schema: "Problem" },
    },
  },
  {
    id: "listBlockingRules",
    method: "get",
    path: "/api/blocking-rules",
    tag: "Blocking rules",
    summary: "Rules for webhook-triggered blocking",
    responses: {
      "200": { description: "This key's rules (all rules for a full-access key).", schema: "BlockingRuleList" },
    },
  },
  {
    id: "createBlockingRule",
    method: "post",
    path: "/api/blocking-rules",
    tag: "Blocking rules",
    summary: "When an appointment is booked on the source, block the same time on each target",
    description:
      "AppointmentCreate on the source blocks every target; AppointmentUpdate moves the blocks; AppointmentDelete or a cancelled status removes them.",
    body: blockingRuleBody,
    bodyName: "BlockingRuleInput",
    responses: {
      "201": { description: "The rule.", schema: "BlockingRule" },
      "400": { description: "Invalid rule, each field named.", schema: "Problem" },
      "403": { description: "A location outside the API key's scope.", schema: "Problem" },
    },
  },
  {
    id: "deleteBlockingRule",
    method: "delete",
    path: "/api/blocking-rules/{ruleId}",
    tag: "Blocking rules",
    summary: "Delete a rule",
    description: "Blocks it already made stay, and keep following their appointments.",
    pathParams: { ruleId: z.string().meta({ format: "uuid" }) },
    responses: {
      "204": { description: "Deleted." },
      "404": { description: "No such rule for this key.", schema: "Problem" },
    },
  },
  {
    id: "triggerBlockSlot",
    method: "post",
    path: "/webhooks/trigger",
    tag: "Webhooks",
    summary: "Queue one block slot (HighLevel workflow Custom Webhook, other systems)",
    description:
      "Answers at once; the block is created from the durable queue. Follow it at /api/block-slots/bulk/{id}.",
    body: bulkItem,
    bodyName: "TriggerInput",
    idempotent: true,
    responses: {
      "202": { description: "Queued: `{id, status}`.", schema: "BulkJobAccepted" },
      "400": { description: "Invalid input, each field named.", schema: "Problem" },
      "403": { description: "A location outside the API key's scope.", schema: "Problem" },
    },
  },
  {
    id: "deleteBlockSlot",
    method: "delete",
    path: "/api/locations/{locationId}/block-slots/{eventId}",
    tag: "Block slots",
    summary: "Delete a block slot",
    pathParams: { ...LOCATION, eventId },
    responses: { "204": { description: "Deleted." }, ...SLOT_ERRORS },
  },
];
