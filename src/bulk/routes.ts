import { AppError } from "../errors";
import { blockSlotInputExample, EXAMPLE_LOCATION } from "../http/examples";
import { bodySlices, charsetOf } from "../http/body-stream";
import { operation, type Operation } from "../http/operation";
import { bulkBody, CSV_COLUMNS, itemsFromCsv, itemsFromJson, MAX_ITEMS } from "./input";
import { bulkJobAccepted, bulkJobResponse, jobParams, jobViewQuery, submitQuery } from "./schemas";
import type { BulkService, JobView } from "./service";

/** 10,000 items of JSON or CSV fit well within this. */
const BODY_LIMIT = 5 * 1024 * 1024;
const TAG = "Bulk jobs";
const base = "/api/block-slots/bulk";

const JOB_ID = "3f0c8a52-6d3e-4c1b-9a57-0b8f2d6e4a11";
const jobExample = {
  id: JOB_ID,
  source: "csv",
  status: "done_with_errors",
  total: 2,
  createdAt: "2030-04-30T09:15:00.000Z",
  counts: { pending: 0, succeeded: 1, failed: 1, skipped: 0, cancelled: 0 },
  items: [
    { index: 0, locationId: EXAMPLE_LOCATION, status: "succeeded", blockSlotId: "mMzzMFPnlBOtTrNnZZa6" },
    {
      index: 1,
      locationId: "otg8dTQqGLh3Q6iQI55w",
      status: "failed",
      error: { code: "location_not_installed", detail: "Location otg8dTQqGLh3Q6iQI55w has not installed this app." },
    },
  ],
};

const wire = (job: JobView) => ({
  ...job,
  source: job.source as "api" | "csv" | "trigger",
  createdAt: job.createdAt.toISOString(),
});

/** `/api/block-slots/bulk`: submit, follow and cancel durable bulk jobs. */
export function bulkOperations(bulk: BulkService): Operation[] {
  const unknownJob = "No such job, or one that acts beyond this API key's scope.";
  return [
    operation({
      id: "submitBulkJob",
      method: "post",
      path: base,
      tag: TAG,
      summary: "Block time across many locations as one durable job",
      description: [
        `Up to ${MAX_ITEMS.toLocaleString("en")} items as JSON, or a CSV (Content-Type text/csv) with the header ${CSV_COLUMNS.join(",")} (title optional).`,
        "The body is read as it arrives: a body that cannot be a valid job (a CSV row of the wrong width, a quote left open, one item or row past the limit, a JSON field other than `items`) is refused at once, naming the line or item, without reading on.",
        "Every item is then checked. By default one invalid item refuses the whole request (400, each problem named: `items.3.endTime`, or `line 4.endTime` in a CSV, where line 1 is the header and a row is numbered by the line it starts on). With `?invalid=skip` the valid items run and each invalid one is stored as a failed item (`error.code` `invalid_request`, its reasons in `error.detail`, and `line` for a CSV row); a request with no valid item is still refused.",
        "Items for locations that are not installed are accepted and fail one by one. Each block is created at most once, even across crashes.",
      ].join("\n\n"),
      auth: "apiKey",
      query: submitQuery,
      body: {
        name: "BulkJobInput",
        schema: bulkBody,
        example: {
          items: [
            { locationId: EXAMPLE_LOCATION, ...blockSlotInputExample },
            { locationId: "otg8dTQqGLh3Q6iQI55w", ...blockSlotInputExample, calendarId: "3KmTmyYv1rBqm4DpQ8cz" },
          ],
        },
        alsoAccepts: { "text/csv": `A CSV with the header ${CSV_COLUMNS.join(",")}; line numbers name bad rows.` },
        handlerValidates: true,
      },
      // The handler reads the body itself, as a stream: see bodySlices.
      readers: [],
      response: {
        status: 202,
        description: "Queued.",
        body: {
          name: "BulkJobAccepted",
          schema: bulkJobAccepted,
          example: { id: JOB_ID, status: "queued", total: 2 },
        },
        headers: { Location: "The job's address." },
      },
      errors: {
        invalid_request:
          "Invalid items (each named: `items.3.endTime`, or `line 4.endTime` in a CSV), a malformed body, or no valid item with `?invalid=skip`.",
        forbidden: "A location outside the API key's scope.",
        unsupported_media_type: "Neither JSON nor CSV, a charset other than UTF-8, or an unknown Content-Encoding.",
        payload_too_large: "Over 5 MB.",
      },
      async handle({ req, res, query, principal }) {
        const type = req.headers["content-type"] ?? "";
        const csv = /^(text|application)\/csv\b/i.test(type);
        if (!csv && !/^application\/json\b/i.test(type)) {
          throw new AppError("unsupported_media_type", "Send application/json `{items: [...]}` or text/csv.");
        }
        if (!["utf-8", "utf8", "us-ascii"].includes(charsetOf(type))) {
          throw new AppError("unsupported_media_type", `The charset ${charsetOf(type)} is not supported: send UTF-8.`);
        }
        const slices = bodySlices(req, BODY_LIMIT);
        const entries = csv ? await itemsFromCsv(slices, query.invalid) : await itemsFromJson(slices, query.invalid);
        const job = await bulk.submit(principal, entries, csv ? "csv" : "api");
        res.location(`${base}/${job.id}`);
        return job;
      },
    }),
    operation({
      id: "getBulkJob",
      method: "get",
      path: `${base}/:jobId`,
      tag: TAG,
      summary: "A bulk job's progress and each item's result",
      auth: "apiKey",
      params: jobParams,
      query: jobViewQuery,
      response: {
        status: 200,
        description: "The job.",
        body: { name: "BulkJob", schema: bulkJobResponse, example: jobExample },
      },
      errors: { not_found: unknownJob },
      async handle({ params, query, principal }) {
        return wire(await bulk.view(principal, params.jobId, query.items));
      },
    }),
    operation({
      id: "cancelBulkJob",
      method: "delete",
      path: `${base}/:jobId`,
      tag: TAG,
      summary: "Cancel what has not started",
      description: "Items already under way finish; their outcome is kept.",
      auth: "apiKey",
      params: jobParams,
      response: {
        status: 200,
        description: "The job, without items.",
        body: { name: "BulkJob", schema: bulkJobResponse },
      },
      errors: { not_found: unknownJob },
      async handle({ params, principal }) {
        return wire(await bulk.cancel(principal, params.jobId));
      },
    }),
  ];
}
