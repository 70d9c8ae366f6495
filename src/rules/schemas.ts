import { z } from "zod";
import { plainText } from "../validation";
import { exactlyOne, highLevelId, locationId } from "../block-slots/schemas";

const text = (max: number) => plainText(z.string().trim().min(1).max(max));

/** A place to watch or to block: a location and one of its calendars or users. */
export const ruleEndpoint = z
  .strictObject({
    locationId,
    calendarId: highLevelId("calendar").optional(),
    assignedUserId: highLevelId("user").optional(),
  })
  .superRefine(exactlyOne(["calendarId", "assignedUserId"]));
export type RuleEndpoint = z.infer<typeof ruleEndpoint>;

const key = (e: RuleEndpoint) => `${e.locationId}|${e.calendarId ?? ""}|${e.assignedUserId ?? ""}`;

/** `POST /api/blocking-rules`. A target equal to the source would block the very appointment. */
export const blockingRuleBody = z
  .strictObject({
    name: text(100).optional().meta({ description: "For people: what the rule is for." }),
    source: ruleEndpoint.meta({ description: "Where appointments are watched." }),
    targets: z
      .array(ruleEndpoint)
      .min(1, "give at least one target")
      .max(50, "at most 50 targets")
      .meta({ description: "Where the same time is blocked." }),
    title: text(200)
      .optional()
      .meta({ description: "Title of the blocks; default says which appointment caused them." }),
  })
  .superRefine((rule, ctx) => {
    const seen = new Set<string>();
    rule.targets.forEach((target, i) => {
      if (!ruleEndpoint.safeParse(target).success || !ruleEndpoint.safeParse(rule.source).success) return;
      if (key(target) === key(rule.source)) {
        ctx.addIssue({ code: "custom", path: ["targets", i], message: "must differ from the source" });
      } else if (seen.has(key(target))) {
        ctx.addIssue({ code: "custom", path: ["targets", i], message: "is listed twice" });
      }
      seen.add(key(target));
    });
  });
export type BlockingRuleBody = z.infer<typeof blockingRuleBody>;
