import { z } from "zod";
import { tenancyWhere, type AccessPolicy } from "../auth/scope";
import { isoWithOffset } from "../block-slots/schemas";
import type { AuditEvent } from "../generated/prisma/client";
import { EXAMPLE_CALENDAR, EXAMPLE_LOCATION } from "../http/examples";
import { operation, type Operation } from "../http/operation";
import { ACTOR_KINDS, ACTOR_TYPE, ACTOR_TYPES, type AuditTrail } from "./trail";

const auditQuery = z
  .strictObject({
    locationId: z.string().trim().min(1).max(100).optional().meta({ description: "Only this location's records." }),
    since: isoWithOffset.optional().meta({ description: "Records at or after this instant.", format: "date-time" }),
    until: isoWithOffset.optional().meta({ description: "Records before this instant.", format: "date-time" }),
    actor: z
      .string()
      .trim()
      .min(1)
      .max(200)
      .optional()
      .meta({
        description: `An actor's id (an API key's id, a HighLevel user's id, a rule's or plan's id…), an actor type (${ACTOR_TYPES.map((t) => `\`${t}\``).join(", ")}) or an actor kind (${ACTOR_KINDS.map((k) => `\`${k}\``).join(", ")}).`,
      }),
    cursor: z
      .string()
      .regex(/^[1-9][0-9]{0,17}$/, "must be the `next` of an earlier page")
      .optional()
      .meta({ description: "`next` of the page before: continue with older records." }),
    limit: z.coerce
      .number<string>()
      .int()
      .min(1)
      .max(500)
      .default(100)
      .meta({ description: "Records per page (1–500, default 100)." }),
  })
  .refine((q) => !q.since || !q.until || Date.parse(q.since) < Date.parse(q.until), {
    path: ["until"],
    message: "must be after since",
  });

const auditTarget = z
  .object({
    type: z.enum(["block_slot", "block_plan", "blocking_rule", "api_key", "location", "agency"]),
    id: z.string().nullable().meta({
      description:
        "HighLevel's block slot id; the app's plan, rule or API key id; the location's or agency's id. Null when a create failed before HighLevel made the block.",
    }),
    calendarId: z.string().nullable().optional().meta({ description: "A block slot's calendar." }),
    assignedUserId: z.string().nullable().optional().meta({ description: "A block slot's team member." }),
  })
  .nullable()
  .meta({ description: "What the change was made to." });

/** What a record's change was made to, by its action. */
function targetOf(e: AuditEvent): z.infer<typeof auditTarget> {
  const [kind] = e.action.split(".");
  switch (kind) {
    case "block":
      return { type: "block_slot", id: e.blockSlotId, calendarId: e.calendarId, assignedUserId: e.assignedUserId };
    case "plan":
      return { type: "block_plan", id: e.subjectId };
    case "rule":
      return { type: "blocking_rule", id: e.subjectId };
    case "api_key":
      return { type: "api_key", id: e.subjectId };
    case "install":
    case "uninstall":
      return e.locationId ? { type: "location", id: e.locationId } : { type: "agency", id: e.companyId };
    default:
      return null;
  }
}

const auditEvent = z.object({
  id: z.string(),
  at: z.string().meta({ format: "date-time" }),
  actor: z.object({
    type: z.enum(ACTOR_TYPES).meta({
      description:
        "Who, broadly: an API key, a HighLevel user on the custom page, a webhook, a blocking rule, or the app itself (a bulk job, a block plan, the command line).",
    }),
    kind: z.enum(ACTOR_KINDS as [string, ...string[]]).meta({ description: "Who, exactly." }),
    id: z.string().nullable(),
    name: z.string().nullable(),
  }),
  action: z.string().meta({ description: "e.g. `block.created`, `plan.deleted`, `api_key.revoked`." }),
  target: auditTarget,
  outcome: z.enum(["ok", "failed"]),
  errorCode: z.string().nullable().meta({ description: "Why it failed: the error code the change answered with." }),
  companyId: z.string().nullable(),
  locationId: z.string().nullable(),
  blockSlotId: z.string().nullable(),
  calendarId: z.string().nullable(),
  assignedUserId: z.string().nullable(),
  subjectId: z.string().nullable().meta({ description: "The rule, plan, API key or install the change is about." }),
});

const auditPage = z.object({
  events: z.array(auditEvent),
  next: z.string().optional().meta({ description: "Pass as `cursor` for older records; absent at the end." }),
});

const example = {
  events: [
    {
      id: "1042",
      at: "2030-04-30T09:15:00.000Z",
      actor: { type: "api_key", kind: "api_key", id: "5b0c6a38-8d1e-4f7a-9c2b-0e4d6f1a2b3c", name: "Front desk sync" },
      action: "block.created",
      target: { type: "block_slot", id: "Yk2mX9pQ4rT7wZ1cV3bN", calendarId: EXAMPLE_CALENDAR, assignedUserId: null },
      outcome: "ok",
      errorCode: null,
      companyId: "otg8dTQqGLh3Q6iQI55w",
      locationId: EXAMPLE_LOCATION,
      blockSlotId: "Yk2mX9pQ4rT7wZ1cV3bN",
      calendarId: EXAMPLE_CALENDAR,
      assignedUserId: null,
      subjectId: null,
    },
  ],
  next: "1041",
};

export const wireEvent = (e: AuditEvent) => ({
  id: e.id.toString(),
  at: e.at.toISOString(),
  actor: { type: ACTOR_TYPE[e.actorKind], kind: e.actorKind, id: e.actorId, name: e.actorName },
  action: e.action,
  target: targetOf(e),
  outcome: e.outcome,
  errorCode: e.errorCode,
  companyId: e.companyId,
  locationId: e.locationId,
  blockSlotId: e.blockSlotId,
  calendarId: e.calendarId,
  assignedUserId: e.assignedUserId,
  subjectId: e.subjectId,
});

/** `GET /api/audit`: who changed what, newest first; a scoped key sees its own locations' records only. */
export function auditOperations(trail: AuditTrail, access: AccessPolicy): Operation[] {
  return [
    operation({
      id: "listAuditEvents",
      method: "get",
      path: "/api/audit",
      tag: "Audit",
      summary: "Every change the app made, newest first",
      description:
        "Blocks created, edited or deleted; plans applied, changed or undone; blocking rules and API keys created or removed; installs and uninstalls. Each with when, who, what, where and the outcome; never a token or a secret. Records are kept `AUDIT_RETENTION_DAYS` days.",
      auth: "apiKey",
      query: auditQuery,
      response: {
        status: 200,
        description: "A page of records.",
        body: { name: "AuditPage", schema: auditPage, example },
      },
      errors: {
        invalid_request: "A bad filter or cursor, named in `errors`.",
        forbidden: "`locationId` is outside the API key's scope.",
      },
      async handle({ query, principal }) {
        if (query.locationId) await access.assertLocation(principal, query.locationId);
        const page = await trail.page(tenancyWhere(principal), {
          ...(query.locationId ? { locationId: query.locationId } : {}),
          ...(query.since ? { since: new Date(query.since) } : {}),
          ...(query.until ? { until: new Date(query.until) } : {}),
          ...(query.actor ? { actor: query.actor } : {}),
          ...(query.cursor ? { before: BigInt(query.cursor) } : {}),
          limit: query.limit,
        });
        // Absent at the end, not null: a client paging `while (next !== undefined)` stops there.
        return { events: page.events.map(wireEvent), ...(page.next ? { next: page.next.toString() } : {}) };
      },
    }),
  ];
}
