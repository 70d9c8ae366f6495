import request from "supertest";
import { mapLimit } from "../../src/util/concurrency";
import type { Harness } from "./harness";
import { TEST_API_KEY } from "./harness";

/** supertest calls to the app with an API key (the bootstrap key unless another is given). */
export const apiAs = (h: Harness, key = TEST_API_KEY) => ({
  post: (path: string) => request(h.app).post(path).auth(key, { type: "bearer" }),
  get: (path: string) => request(h.app).get(path).auth(key, { type: "bearer" }),
  put: (path: string) => request(h.app).put(path).auth(key, { type: "bearer" }),
  delete: (path: string) => request(h.app).delete(path).auth(key, { type: "bearer" }),
});

/** Installs a location directly, as a sub-account user clicking through the marketplace would. */
export async function installLocation(h: Harness, locationId: string): Promise<void> {
  await request(h.app)
    .get("/oauth/callback")
    .query({ code: h.sandbox.state.issueCode({ locationId }) })
    .expect(200);
  startFromTheDatabase(h);
}

/**
 * An install reads each location's name with its fresh token, which the process then keeps for a
 * while. Tests that change stored tokens directly act before the change notification would drop
 * it, so installs here leave no token in memory: every test starts from the database alone.
 */
function startFromTheDatabase(h: Harness): void {
  h.services.tokenService.forgetAll();
}

/** The install's id, read from the page the callback rendered (its progress address). */
export function installIdOf(page: string): string {
  const id = /data-progress="\/oauth\/installs\/([^/"]+)\/progress"/.exec(page)?.[1];
  if (!id) throw new Error("the install page names no install");
  return id;
}

export interface ProgressBody {
  id: string;
  kind: "company" | "location";
  state: "listing" | "connecting" | "done" | "listing_failed";
  live: boolean;
  headline: string;
  summary: string;
  companyName: string | null;
  counts: { total: number; connected: number; failed: number; connecting: number };
  locations: { id: string; name: string | null; timeZone: string | null; status: string; error?: string }[];
  unlisted: number;
}

export const progressOf = async (h: Harness, installId: string): Promise<ProgressBody> =>
  (await request(h.app).get(`/oauth/installs/${installId}/progress`).expect(200)).body as ProgressBody;

/**
 * Works an install's queued jobs to their end, as the queue's workers would (most harnesses run
 * none), and reads the connected locations' names; where workers do run, their leases keep the two
 * from doing anything twice. Resolves with the final progress.
 */
export async function finishInstall(h: Harness, installId: string, timeoutMs = 30_000): Promise<ProgressBody> {
  const until = Date.now() + timeoutMs;
  const quietly = (work: Promise<unknown>) => work.catch(() => undefined);
  let [lastNameless, namesSince] = [Infinity, Date.now()];
  for (;;) {
    await quietly(h.services.discovery.process({ installId }));
    const members = await h.db.installLocation.findMany({ where: { installId }, select: { locationId: true } });
    const covered = { id: { in: members.map((m) => m.locationId) } };
    const connecting = await h.db.location.findMany({
      where: { ...covered, status: "connecting" },
      select: { id: true },
    });
    // A few at a time, like a worker's batch: the test database's pool is small.
    await mapLimit(connecting, 4, (l) => quietly(h.services.mintWorker.process({ locationId: l.id })));
    const unread = await h.db.location.findMany({
      where: { ...covered, status: { in: ["active", "failed"] }, detailsAt: null },
      select: { id: true },
    });
    const epoch = new Date(0).toISOString();
    await mapLimit(unread, 4, (l) =>
      quietly(h.services.detailsWorker.process({ locationId: l.id, requestedAt: epoch })),
    );
    const progress = await progressOf(h, installId);
    // Done when every connected location also has its name: a test reading names right after
    // the install must not race the read (a rate-limited one is put back on the queue).
    // Names HighLevel will not give (a test's refusal) are waited for only while some still come.
    const nameless = await h.db.location.count({ where: { ...covered, status: "active", detailsAt: null } });
    if (nameless < lastNameless) [lastNameless, namesSince] = [nameless, Date.now()];
    if (!progress.live && (nameless === 0 || Date.now() - namesSince > 2_000)) return progress;
    if (Date.now() > until) throw new Error(`install ${installId} not finished: ${JSON.stringify(progress.counts)}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** Installs an agency (company token) and waits until each of its locations is connected or failed. */
export async function installCompany(h: Harness, companyId: string): Promise<ProgressBody> {
  const page = await request(h.app)
    .get("/oauth/callback")
    .query({ code: h.sandbox.state.issueCode({ companyId }) })
    .expect(200);
  const done = await finishInstall(h, installIdOf(page.text));
  startFromTheDatabase(h);
  return done;
}
