import { z } from "zod";

const counts = z.object({
  pending: z.number().int(),
  succeeded: z.number().int(),
  failed: z.number().int(),
  skipped: z.number().int().meta({ description: "Items equal to a block this app had already made, still there." }),
  cancelled: z.number().int(),
});
export const jobStatus = z.enum(["queued", "running", "done", "done_with_errors", "cancelled"]);

/** `GET /api/block-slots/bulk/:id`, as sent. */
export const bulkJobResponse = z.object({
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
        status: z.enum(["pending", "succeeded", "failed", "skipped", "cancelled"]),
        blockSlotId: z.string().optional(),
        error: z.object({ code: z.string(), detail: z.string() }).optional(),
      }),
    )
    .optional(),
});

export const bulkJobAccepted = z.object({
  id: z.string().meta({ format: "uuid" }),
  status: jobStatus,
  total: z.number().int(),
});
export const triggerAccepted = z.object({ id: z.string().meta({ format: "uuid" }), status: jobStatus });

export const jobParams = z.strictObject({ jobId: z.string().meta({ format: "uuid" }) });
export const jobViewQuery = z.strictObject({
  items: z
    .enum(["all", "failed", "none"])
    .default("all")
    .meta({ description: "Which items to list (default all); `none` for progress only." }),
});
