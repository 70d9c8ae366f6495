import { z } from "zod";
import { highLevelId } from "../block-slots/schemas";
import { plainText } from "../validation";
import { floating, isValidZone, LOCAL_DATE, LOCAL_DATE_TIME, MAX_SPAN_DAYS, parseRule } from "./schedule";

/** More blocks than this in one plan: 400 `plan_too_large`. */
export const MAX_BLOCKS = 10_000;

const localDateTime = z
  .string()
  .regex(LOCAL_DATE_TIME, "must be a local date-time without offset, e.g. 2026-12-25T00:00")
  .refine((v) => floating(v).isValid, "is not a real date-time")
  .meta({ example: "2026-12-25T00:00" });

const localDate = z
  .string()
  .regex(LOCAL_DATE, "must be a local date, e.g. 2026-12-31")
  .refine((v) => floating(`${v}T00:00`).isValid, "is not a real date");

const target = z
  .strictObject({
    locationId: highLevelId("location").optional().meta({ description: "One sub-account." }),
    companyId: highLevelId("company")
      .optional()
      .meta({ description: "Every active sub-account of this agency known to the app (calendars must be all)." }),
    calendars: z.literal("all").optional().meta({ description: "Every calendar HighLevel lists for the location." }),
    calendarIds: z.array(highLevelId("calendar")).min(1).max(100).optional(),
    userIds: z.array(highLevelId("user")).min(1).max(100).optional().meta({ description: "Block these users' time." }),
  })
  .superRefine((t, ctx) => {
    const where = ["locationId", "companyId"].filter((k) => t[k as keyof typeof t] !== undefined);
    if (where.length !== 1) {
      for (const key of where.length ? where : ["locationId", "companyId"]) {
        ctx.addIssue({ code: "custom", path: [key], message: "give exactly one of locationId or companyId" });
      }
    }
    const what = ["calendars", "calendarIds", "userIds"].filter((k) => t[k as keyof typeof t] !== undefined);
    if (what.length !== 1) {
      for (const key of what.length ? what : ["calendars"]) {
        ctx.addIssue({ code: "custom", path: [key], message: "give exactly one of calendars, calendarIds or userIds" });
      }
    }
    if (t.companyId !== undefined && what.length === 1 && t.calendars !== "all") {
      ctx.addIssue({
        code: "custom",
        path: [what[0]!],
        message: 'a companyId target takes "calendars": "all" (ids are per location)',
      });
    }
  });
export type PlanTarget = z.infer<typeof target>;

export const schedule = z
  .strictObject({
    start: localDateTime.meta({ description: "Local start, in each target's zone." }),
    end: localDateTime.meta({
      description: "Local end: after start, at most 31 days later.",
      example: "2026-12-26T00:00",
    }),
    rrule: z.string().max(500).optional().meta({
      description: "RFC 5545 RRULE (COUNT or UNTIL required).",
      example: "FREQ=WEEKLY;BYDAY=MO,TU,WE,TH,FR;COUNT=20",
    }),
    exdates: z.array(localDate).max(1000).optional().meta({ description: "Local dates left out." }),
  })
  .superRefine((s, ctx) => {
    const start = floating(s.start);
    const end = floating(s.end);
    if (!start.isValid || !end.isValid) return;
    if (end <= start) ctx.addIssue({ code: "custom", path: ["end"], message: "must be after start" });
    else if (end.diff(start, "days").days > MAX_SPAN_DAYS) {
      ctx.addIssue({ code: "custom", path: ["end"], message: `must be at most ${MAX_SPAN_DAYS} days after start` });
    }
    if (s.rrule !== undefined) {
      const parsed = parseRule(s.rrule, start);
      if ("problem" in parsed) ctx.addIssue({ code: "custom", path: ["rrule"], message: `RRULE ${parsed.problem}` });
    }
  });
export type PlanSchedule = z.infer<typeof schedule>;

export const planBody = z
  .strictObject({
    title: plainText(z.string().trim().min(1, "is required").max(200, "must be at most 200 characters")).meta({
      description: "Shown on every block.",
      example: "Closed – Christmas",
    }),
    targets: z.array(target).min(1, "give at least one target").max(1000),
    schedule,
    timeZone: z
      .string()
      .default("location")
      .refine((v) => v === "location" || isValidZone(v), 'must be "location" or an IANA time zone, e.g. Europe/London')
      .meta({ description: '"location" (each target\'s own zone) or one IANA zone for all.' }),
  })
  .meta({ description: "A block plan: the same local hours on many targets." });
export type PlanBody = z.infer<typeof planBody>;

/** What a target resolves to: one calendar or one user of one location. */
const placed = {
  locationId: z.string(),
  calendarId: z.string().optional(),
  assignedUserId: z.string().optional(),
  startTime: z.string().meta({ format: "date-time", description: "ISO-8601 with the offset sent to HighLevel." }),
  endTime: z.string().meta({ format: "date-time" }),
};

export const conflict = z.object({
  ...placed,
  startTime: z.string().meta({ format: "date-time", description: "The event's start." }),
  endTime: z.string().meta({ format: "date-time", description: "The event's end." }),
  eventId: z.string(),
  kind: z.enum(["appointment", "block"]),
  title: z.string().optional(),
});
export type Conflict = z.infer<typeof conflict>;

export const planPreview = z.object({
  total: z.number().int(),
  blocks: z.array(z.object(placed)),
  conflicts: z.array(conflict),
});

export const planStatus = z.enum(["applying", "applied", "applied_with_errors", "deleting", "deleted"]);
export type PlanStatus = z.infer<typeof planStatus>;
export const blockStatus = z.enum(["pending", "created", "failed", "removed"]);

export const planAccepted = z.object({
  id: z.string().meta({ format: "uuid" }),
  status: planStatus,
  total: z.number().int(),
});

export const planView = z.object({
  id: z.string().meta({ format: "uuid" }),
  title: z.string(),
  targets: z.array(target),
  schedule: z.object({
    start: z.string(),
    end: z.string(),
    rrule: z.string().optional(),
    exdates: z.array(z.string()).optional(),
  }),
  timeZone: z.string(),
  status: planStatus,
  total: z.number().int(),
  createdAt: z.string().meta({ format: "date-time" }),
  counts: z.object({
    pending: z.number().int(),
    created: z.number().int(),
    failed: z.number().int(),
    removed: z.number().int(),
  }),
  blocks: z
    .array(
      z.object({
        ...placed,
        status: blockStatus,
        blockSlotId: z.string().optional(),
        error: z.object({ code: z.string(), detail: z.string() }).optional(),
      }),
    )
    .optional(),
  conflicts: z.array(conflict),
});
export type PlanView = z.infer<typeof planView>;

export const planList = z.object({
  plans: z.array(
    z.object({
      id: z.string().meta({ format: "uuid" }),
      title: z.string(),
      status: planStatus,
      total: z.number().int(),
      createdAt: z.string().meta({ format: "date-time" }),
    }),
  ),
  next: z.string().optional().meta({ description: "Pass as `cursor` for older plans; absent at the end." }),
});

/** `<epoch ms>.<plan id>`: where the page before ended. */
const PLAN_CURSOR = /^(\d{1,15})\.([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})$/;

export const planListQuery = z.strictObject({
  cursor: z
    .string()
    .regex(PLAN_CURSOR, "must be the `next` of an earlier page")
    .optional()
    .meta({ description: "`next` of the page before: continue with older plans." }),
  limit: z.coerce
    .number<string>()
    .int()
    .min(1)
    .max(200)
    .default(200)
    .meta({ description: "Plans per page (1–200, default 200)." }),
});

export const readPlanCursor = (cursor: string): { createdAt: Date; id: string } => {
  const [, ms, id] = PLAN_CURSOR.exec(cursor)!;
  return { createdAt: new Date(Number(ms)), id: id! };
};

export const planCursor = (plan: { createdAt: Date; id: string }): string => `${plan.createdAt.getTime()}.${plan.id}`;

export const planParams = z.strictObject({ planId: z.string().meta({ format: "uuid" }) });
export const planViewQuery = z.strictObject({
  blocks: z
    .enum(["all", "failed", "none"])
    .default("all")
    .meta({ description: "Which blocks to list (default all); `none` for progress only." }),
});

/** The stored JSON columns, read back: what was accepted is what comes out. */
export const storedTargets = z.array(target);
export const storedSchedule = schedule;
export const storedConflicts = z.array(conflict);
