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
        line: z
          .number()
          .int()
          .optional()
          .meta({ description: "For a CSV item: the line it came from (the header is line 1)." }),
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

export const submitQuery = z.strictObject({
  invalid: z.enum(["reject", "skip"]).default("reject").meta({
    description:
      "`reject` (default): any invalid item refuses the whole request, naming each. `skip`: the valid items run; the invalid ones are stored as failed items (`invalid_request`, with their reasons).",
  }),
});

export const jobParams = z.strictObject({ jobId: z.string().meta({ format: "uuid" }) });
export const jobViewQuery = z.strictObject({
  items: z
    .enum(["all", "failed", "none"])
    .default("all")
    .meta({ description: "Which items to list (default all); `none` for progress only." }),
});
