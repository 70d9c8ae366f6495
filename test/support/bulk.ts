import type { SandboxCompany } from "../../src/sandbox";
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
