import type { SandboxCompany } from "../../sandbox";
import type { BulkItemInput } from "../../src/block-slots/schemas";
import { apiAs } from "./api";
import type { Harness } from "./harness";

/** An agency with `count` sub-accounts: loc-0 … loc-{count-1}. */
export const bigAgency = (count: number, id = "agency-big"): SandboxCompany => ({
  id,
  name: "Many Clinics Group",
  locations: Array.from({ length: count }, (_, i) => ({ id: `loc-${i}`, name: `Clinic ${i}` })),
});

/** `count` items spread round the given locations, each in its own hour so every block is distinct. */
export function itemsFor(locations: string[], count: number): BulkItemInput[] {
  return Array.from({ length: count }, (_, i) => {
    const start = Date.UTC(2030, 4, 1, 0, 0) + i * 3600_000;
    return {
      locationId: locations[i % locations.length]!,
      calendarId: "cal-1",
      startTime: new Date(start).toISOString(),
      endTime: new Date(start + 1800_000).toISOString(),
      title: `Bulk ${i}`,
    };
  });
}

export interface JobBody {
  id: string;
  status: string;
  total: number;
  counts: Record<"pending" | "succeeded" | "failed" | "cancelled", number>;
  items?: {
    index: number;
    locationId: string;
    status: string;
    blockSlotId?: string;
    error?: { code: string; detail: string };
    line?: number;
  }[];
}

/** Polls the job until `done(job)` or the time is up (then fails with the last state seen). */
export async function waitForJob(
  h: Harness,
  id: string,
  done: (job: JobBody) => boolean = (job) => job.counts.pending === 0,
  timeoutMs = 60_000,
): Promise<JobBody> {
  const until = Date.now() + timeoutMs;
  let job: JobBody | undefined;
  while (Date.now() < until) {
    const res = await apiAs(h).get(`/api/block-slots/bulk/${id}`).expect(200);
    job = res.body as JobBody;
    if (done(job)) return job;
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(
    `job ${id} did not get there in ${timeoutMs} ms; last seen: ${JSON.stringify(job?.counts)} ${job?.status}`,
  );
}

let hour = 0;
/** One item in an hour no other item of the run uses, so a look in HighLevel finds only its own block. */
export function freshItem(locationId = "loc-0", title?: string): BulkItemInput {
  const start = Date.UTC(2031, 0, 1) + ++hour * 3600_000;
  return {
    locationId,
    calendarId: "cal-1",
    startTime: new Date(start).toISOString(),
    endTime: new Date(start + 1800_000).toISOString(),
    title: title ?? `Item ${hour}`,
  };
}

/** Submits a job over the API; returns its id. */
export async function submitJob(h: Harness, items: BulkItemInput[]): Promise<string> {
  const res = await apiAs(h).post("/api/block-slots/bulk").send({ items }).expect(202);
  return res.body.id as string;
}

/** A bulk item as stored. */
export const storedItem = (h: Harness, jobId: string, index = 0) =>
  h.db.bulkItem.findUniqueOrThrow({ where: { jobId_index: { jobId, index } } });

/** Queue entries still to be run for one item (pg-boss keeps them in its own schema). */
export async function waitingEntries(h: Harness, jobId: string, index = 0): Promise<{ startAfter: Date }[]> {
  return h.db.$queryRaw<{ startAfter: Date }[]>`
    SELECT start_after AS "startAfter" FROM pgboss.job
    WHERE name = 'bulk-item' AND state IN ('created', 'retry')
      AND data->>'jobId' = ${jobId} AND (data->>'index')::int = ${index}
    ORDER BY start_after`;
}
