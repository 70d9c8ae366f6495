import express from "express";
import { AppError } from "../errors";
import { blockSlotInputExample, EXAMPLE_LOCATION } from "../http/examples";
import { operation, type Operation } from "../http/operation";
import { bulkBody, CSV_COLUMNS, itemsFromCsv, itemsFromJson } from "./input";
import { bulkJobAccepted, bulkJobResponse, jobParams, jobViewQuery } from "./schemas";
import type { BulkService, JobView } from "./service";

/** 10,000 items of JSON or CSV fit well within this. */
const BODY_LIMIT = "5mb";
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
  const unknownJob = "No such job for this API key.";
  return [
    operation({
      id: "submitBulkJob",
      method: "post",
      path: base,
      tag: TAG,
      summary: "Block time across many locations as one durable job",
      description: `Up to 10,000 items as JSON, or a CSV (Content-Type text/csv) with the header ${CSV_COLUMNS.join(",")}. Every item is checked first; one bad item rejects the request, naming each. Items for locations that are not installed are accepted and fail one by one. Each block is created at most once, even across crashes.`,
      auth: "apiKey",
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
      readers: [
        express.json({ limit: BODY_LIMIT }),
        express.text({ type: ["text/csv", "application/csv"], limit: BODY_LIMIT }),
      ],
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
        invalid_request: "Invalid items (each named: `items.3.endTime`, or `line 4.endTime` in a CSV).",
        forbidden: "A location outside the API key's scope.",
        unsupported_media_type: "Neither JSON nor CSV.",
        payload_too_large: "Over 5 MB.",
      },
      async handle({ req, res, principal }) {
        const type = req.headers["content-type"] ?? "";
        let items;
        if (/^(text|application)\/csv\b/i.test(type)) items = itemsFromCsv(String(req.body ?? ""));
        else if (/^application\/json\b/i.test(type)) items = itemsFromJson(req.body);
        else throw new AppError("unsupported_media_type", "Send application/json `{items: [...]}` or text/csv.");
        const source = typeof req.body === "string" ? "csv" : "api";
        const job = await bulk.submit(principal, items, source);
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
