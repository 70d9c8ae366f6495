import { z } from "zod";
import { HIGHLEVEL_ID } from "../util/ids";
import { plainText } from "../validation";

/** ISO-8601 with an offset or Z, as HighLevel requires (docs/highlevel.md, "Calendars"); a local time is ambiguous. */
export const isoWithOffset = z.iso.datetime({
  offset: true,
  error: "must be an ISO-8601 date-time with an offset, e.g. 2030-05-01T12:00:00+02:00",
});

/** A HighLevel id: checked here so nothing malformed is ever forwarded to HighLevel. */
export const highLevelId = (what: string) => z.string().trim().regex(HIGHLEVEL_ID, `must be a HighLevel ${what} id`);

const target = {
  calendarId: highLevelId("calendar")
    .optional()
    .meta({ description: "The calendar to block. Give this or assignedUserId, not both." }),
  assignedUserId: highLevelId("user")
    .optional()
    .meta({ description: "The user whose time to block. Give this or calendarId, not both." }),
};

export function exactlyOne(keys: [string, string]) {
  return (value: Record<string, unknown>, ctx: z.RefinementCtx) => {
    const present = keys.filter((k) => value[k] !== undefined);
    if (present.length !== 1) {
      for (const key of present.length === 0 ? keys : present) {
        ctx.addIssue({ code: "custom", path: [key], message: `give exactly one of ${keys.join(" or ")}` });
      }
    }
  };
}

function startBeforeEnd(value: { startTime: string; endTime: string }, ctx: z.RefinementCtx) {
  // zod runs refinements even when a time is already reported malformed: compare only valid ones.
  if (!isoWithOffset.safeParse(value.startTime).success || !isoWithOffset.safeParse(value.endTime).success) return;
  if (Date.parse(value.endTime) <= Date.parse(value.startTime)) {
    ctx.addIssue({ code: "custom", path: ["endTime"], message: "must be after startTime" });
  }
}

export const eventId = z.string().regex(HIGHLEVEL_ID, "must be a HighLevel event id");
export const locationId = z.string().regex(HIGHLEVEL_ID, "must be a HighLevel location id");

const blockSlotFields = {
  ...target,
  startTime: isoWithOffset.meta({
    description: "Start, ISO-8601 with an offset.",
    example: "2030-05-01T12:00:00+02:00",
  }),
  endTime: isoWithOffset.meta({ description: "End, after startTime.", example: "2030-05-01T13:00:00+02:00" }),
  title: plainText(z.string().trim().max(200, "must be at most 200 characters"))
    .optional()
    .meta({ description: "Shown on the calendar.", example: "Team training" }),
};

/** The body of a create or an edit. Unknown fields are refused, not ignored. */
export const blockSlotBody = z
  .strictObject(blockSlotFields)
  .superRefine(exactlyOne(["calendarId", "assignedUserId"]))
  .superRefine(startBeforeEnd)
  .meta({ description: "Exactly one of calendarId or assignedUserId; startTime before endTime." });
export type BlockSlotBody = z.infer<typeof blockSlotBody>;

/** One item of a bulk job: a create body plus the location it is for. */
export const bulkItem = z
  .strictObject({ locationId: locationId.meta({ description: "The sub-account." }), ...blockSlotFields })
  .superRefine(exactlyOne(["calendarId", "assignedUserId"]))
  .superRefine(startBeforeEnd);
export type BulkItemInput = z.infer<typeof bulkItem>;

/** The list window: the app converts the ISO times to HighLevel's epoch milliseconds. */
export const blockSlotListQuery = z
  .strictObject({
    calendarId: target.calendarId.meta({ description: "List this calendar's blocks. Give this or userId." }),
    userId: target.assignedUserId.meta({ description: "List this user's blocks. Give this or calendarId." }),
    startTime: isoWithOffset.meta({ description: "Window start, ISO-8601 with an offset." }),
    endTime: isoWithOffset.meta({ description: "Window end, after startTime." }),
  })
  .superRefine(exactlyOne(["calendarId", "userId"]))
  .superRefine(startBeforeEnd);
export type BlockSlotListQuery = z.infer<typeof blockSlotListQuery>;

/** HighLevel's block slot as the API returns it: HighLevel's own fields, more than these included. */
export const blockSlot = z
  .looseObject({
    id: z.string(),
    locationId: z.string(),
    title: z.string().optional(),
    startTime: z.string().meta({ format: "date-time" }),
    endTime: z.string().meta({ format: "date-time" }),
    calendarId: z.string().optional(),
    assignedUserId: z.string().optional(),
  })
  .meta({ description: "HighLevel's block slot, as HighLevel returned it." });

export const blockSlotList = z.object({ blockSlots: z.array(blockSlot) });

export const locationParams = z.strictObject({ locationId });
export const eventParams = z.strictObject({ locationId, eventId });
