import crypto from "node:crypto";
import { CALENDARS_VERSION } from "../../src/highlevel/calendars";
import { DEFAULT_SCOPES } from "../../sandbox";
import { awaitBulk, submitBulk, type BulkOutcome } from "./bulk";
import { loadAt, percentile, type LoadResult } from "./load";
import {
  agency,
  authHeaders,
  companyKey,
  cpuMs,
  installAgency,
  peakRssMb,
  slotFor,
  startStack,
  until,
  type Stack,
} from "./stack";

const COMPANY = "bench-agency";

/** Spread over many locations: the app paces each under HighLevel's 100 requests / 10 s. */
async function createLoad(
  stack: Stack,
  headers: Record<string, string>,
  locations: number,
  connections: number,
  durationS: number,
  rate?: number,
) {
  const perApp = Math.max(1, Math.floor(connections / stack.apps.length));
  const results = await Promise.all(
    stack.apps.map((app, a) =>
      loadAt(rate && rate / stack.apps.length, {
        url: app.url,
        connections: perApp,
        durationS,
        next: (i) => {
          const n = i * stack.apps.length + a;
          const { locationId, ...slot } = slotFor(n, `loc-${n % locations}`);
          return { path: `/api/locations/${locationId}/block-slots`, headers, body: JSON.stringify(slot) };
        },
      }),
    ),
  );
  return {
    rps: results.reduce((s, r) => s + r.rps, 0),
    p50: Math.max(...results.map((r) => r.p50)),
    p99: Math.max(...results.map((r) => r.p99)),
    requests: results.reduce((s, r) => s + r.requests, 0),
    non2xx: results.reduce((s, r) => s + r.non2xx, 0),
    errors: results.reduce((s, r) => s + r.errors, 0),
  } satisfies LoadResult;
}

/** Figure 1 (+5): app vs direct to the same sandbox, same connections, keep-alive; and the app's peak RSS. */
export async function throughput(options: {
  connections: number;
  durationS: number;
  locations: number;
  processes?: number;
  /** Also measure both at this many requests per second, below saturation. */
  steadyRate?: number;
  nodeArgs?: string[];
  /** Flat-out runs of each (direct and app), interleaved; the best of each is reported. */
  rounds?: number;
  /** `off`: the app counts nothing (METRICS=off): no /metrics series, no dashboard buckets. */
  metrics?: "on" | "off";
}) {
  const stack = await startStack({
    processes: options.processes ?? 1,
    nodeArgs: options.nodeArgs,
    sandbox: { companies: [agency(options.locations, COMPANY)] },
    env: { METRICS: options.metrics ?? "on" },
  });
  try {
    await installAgency(stack, COMPANY);
    // The agency's own key, made as an operator makes one: a stored, company-scoped key.
    const headers = { ...authHeaders, Authorization: `Bearer ${await companyKey(stack, COMPANY)}` };
    const tokens = Array.from(
      { length: options.locations },
      (_, i) =>
        stack.sandbox.state.issueAccessToken({
          userType: "Location",
          companyId: COMPANY,
          locationId: `loc-${i}`,
          scopes: [...DEFAULT_SCOPES],
        }).token,
    );
    // The sandbox (in this process) keeps every request and block it received; hundreds of
    // thousands of them made its collections pause the load generator too. Only the count of
    // requests it found invalid is needed, so that is kept and the rest dropped before each run.
    let invalid = 0;
    const fresh = () => {
      invalid += stack.sandbox.state.invalidRequests().length;
      stack.sandbox.state.resetRequests();
      stack.sandbox.state.slots.clear();
    };
    const appLoad = (durationS: number, rate?: number) => {
      fresh();
      return createLoad(stack, headers, options.locations, options.connections, durationS, rate);
    };
    const direct = (rate?: number) => {
      fresh();
      return loadAt(rate, {
        url: stack.sandbox.url,
        connections: options.connections,
        durationS: options.durationS,
        next: (i) => ({
          path: "/calendars/events/block-slots",
          headers: {
            Authorization: `Bearer ${tokens[i % options.locations]}`,
            Version: CALENDARS_VERSION,
            "Content-Type": "application/json",
          },
          body: JSON.stringify(slotFor(i, `loc-${i % options.locations}`)),
        }),
      });
    };
    const directRuns = [await direct()];
    // Warm-up (JIT, pools, token decrypts): 5 s, since V8 was still optimising after 2 s.
    await appLoad(5);
    // Interleaved like the flat-out runs, the lowest p99 of each side counting: a stall of the
    // bench process (which is also the sandbox) once gave the direct side a p99 of 195 ms.
    const steadyRun = async () => {
      if (!options.steadyRate) return undefined;
      const runs = { direct: [] as LoadResult[], app: [] as LoadResult[] };
      for (let round = 0; round < (options.rounds ?? 1); round++) {
        runs.direct.push(await direct(options.steadyRate));
        runs.app.push(await appLoad(options.durationS, options.steadyRate));
      }
      const calmest = (list: LoadResult[]) => list.reduce((a, b) => (b.p99 < a.p99 ? b : a));
      return { direct: calmest(runs.direct), app: calmest(runs.app) };
    };
    // At a steady rate well below saturation: what one more HTTP hop costs when nothing queues.
    const steadyBefore = await steadyRun();
    const pid = stack.apps[0]!.pid;
    // Flat-out runs alternate (direct, app, direct, app …) and the best of each counts: the
    // machine's other load comes and goes, and it should not decide the ratio.
    const appRuns: LoadResult[] = [];
    let appCpuMs = 0;
    for (let round = 0; round < (options.rounds ?? 1); round++) {
      if (round > 0) directRuns.push(await direct());
      const cpuBefore = cpuMs(pid);
      appRuns.push(await appLoad(options.durationS));
      appCpuMs += cpuMs(pid) - cpuBefore;
    }
    const best = (runs: LoadResult[]) => runs.reduce((a, b) => (b.rps > a.rps ? b : a));
    const flatOut = best(directRuns);
    const app = best(appRuns);
    const appRequests = appRuns.reduce((sum, r) => sum + r.requests, 0);
    const appCpuMsPerRequest = stack.apps.length === 1 ? appCpuMs / appRequests : undefined;
    // The same again once the app has run flat out.
    const steadyAfter = await steadyRun();
    const steady = steadyBefore &&
      steadyAfter && { rate: options.steadyRate!, before: steadyBefore, after: steadyAfter };
    fresh(); // counts the last run's invalid requests
    // What reached the dashboard's buckets (flushed every 10 s; the figure ends with a SIGKILL).
    const [counted] = await stack.query<{ blocks: number }>(
      "SELECT coalesce(sum(total), 0)::float8 AS blocks FROM metric_buckets WHERE series = 'blocks_created'",
    );
    return {
      bucketedBlocks: counted?.blocks ?? 0,
      direct: flatOut,
      app,
      ratio: app.rps / flatOut.rps,
      addedP50: Math.round((app.p50 - flatOut.p50) * 100) / 100,
      addedP99: Math.round((app.p99 - flatOut.p99) * 100) / 100,
      appCpuMsPerRequest,
      steady,
      peakRssMb: peakRssMb(pid),
      invalid,
    };
  } finally {
    await stack.close();
  }
}

/** Figure 2: the tokens (agency's and locations') expired; `calls` at once over the processes. */
export async function refreshStorm(options: { calls: number; processes: number; locations: number }) {
  const stack = await startStack({
    processes: options.processes,
    sandbox: { companies: [agency(options.locations, COMPANY)] },
  });
  try {
    await installAgency(stack, COMPANY);
    await stack.query("UPDATE locations SET token_expires_at = now() - interval '1 minute'");
    await stack.query("UPDATE companies SET token_expires_at = now() - interval '1 minute'");
    const grantsBefore = stack.sandbox.state.refreshGrants.length;
    const window = "startTime=2031-01-01T00:00:00Z&endTime=2031-01-02T00:00:00Z&calendarId=cal-1";
    const times: number[] = [];
    const statuses = await Promise.all(
      Array.from({ length: options.calls }, async (_, i) => {
        const app = stack.apps[i % stack.apps.length]!;
        const started = performance.now();
        const res = await fetch(`${app.url}/api/locations/loc-${i % options.locations}/block-slots?${window}`, {
          headers: authHeaders,
        });
        await res.arrayBuffer();
        times.push(performance.now() - started);
        return res.status;
      }),
    );
    const grants = stack.sandbox.state.refreshGrants.slice(grantsBefore);
    const perToken = new Map<string, number>();
    for (const g of grants) perToken.set(g.ownerId ?? "?", (perToken.get(g.ownerId ?? "?") ?? 0) + 1);
    return {
      calls: options.calls,
      tokens: options.locations + 1,
      ok: statuses.filter((s) => s === 200).length,
      refreshes: grants.length,
      maxPerToken: Math.max(0, ...perToken.values()),
      p50: Math.round(percentile(times, 50)),
      p99: Math.round(percentile(times, 99)),
    };
  } finally {
    await stack.close();
  }
}

/** Figure 3: one item per location, HighLevel answering in 50 ms. */
export async function bulk(options: { locations: number; processes: number; latencyMs: number }): Promise<BulkOutcome> {
  const stack = await startStack({
    processes: options.processes,
    sandbox: { companies: [agency(options.locations, COMPANY)] },
  });
  try {
    await installAgency(stack, COMPANY);
    // Latency from here on: the install is set-up, not what is measured.
    stack.sandbox.state.latencyMs = options.latencyMs;
    const started = Date.now();
    const job = await submitBulk(stack, options.locations, options.locations);
    return await awaitBulk(stack, job, started);
  } finally {
    await stack.close();
  }
}

/**
 * Figure 4: signed deliveries accepted durably, and the time until all are worked. `separateWorker`
 * runs the receiving process with WORKER_CONCURRENCY=0 and a second process working the queue (a
 * deployment with web and worker processes); `rate` offers a steady load instead of a burst.
 */
export async function webhookIntake(options: {
  deliveries: number;
  connections: number;
  separateWorker?: boolean;
  rate?: number;
}) {
  const { publicKey, privateKey } = crypto.generateKeyPairSync("ed25519");
  const stack = await startStack({
    sandbox: { companies: [agency(10, COMPANY)] },
    env: {
      HIGHLEVEL_WEBHOOK_ED25519_PUBLIC_KEY: publicKey.export({ type: "spki", format: "pem" }).toString(),
      ...(options.separateWorker ? { WORKER_CONCURRENCY: "0" } : {}),
    },
  });
  try {
    if (options.separateWorker) await stack.startApp({ WORKER_CONCURRENCY: "200" });
    const sign = (i: number) => {
      const body = JSON.stringify({
        type: "AppointmentCreate",
        locationId: `loc-${i % 10}`,
        webhookId: `bench-${i}`,
        timestamp: new Date().toISOString(),
        appointment: {
          id: `appt-${i}`,
          calendarId: "cal-1",
          startTime: "2031-01-01T09:00:00Z",
          endTime: "2031-01-01T10:00:00Z",
        },
      });
      return { body, signature: crypto.sign(null, Buffer.from(body), privateKey).toString("base64") };
    };
    const signed = (from: number, amount: number) => Array.from({ length: amount }, (_, i) => sign(from + i));
    const offer = (bodies: { body: string; signature: string }[]) =>
      loadAt(options.rate, {
        url: stack.apps[0]!.url,
        connections: options.connections,
        amount: bodies.length,
        next: (i) => ({
          path: "/webhooks/highlevel",
          headers: { "Content-Type": "application/json", "x-ghl-signature": bodies[i]!.signature },
          body: bodies[i]!.body,
        }),
      });
    const allWorked = () =>
      until(
        async () =>
          (
            await stack.query<{ n: number }>("SELECT count(*)::int AS n FROM webhook_events WHERE status = 'received'")
          )[0]!.n === 0,
        300_000,
        200,
      );
    // Warm-up (JIT, pools), worked off before the measured run, as a running service would be.
    const WARM_UP = 1000;
    await offer(signed(options.deliveries, WARM_UP));
    await allWorked();
    const measured = signed(0, options.deliveries);
    const started = Date.now();
    const result = await offer(measured);
    const ackedMs = Date.now() - started;
    await allWorked();
    const stored = (await stack.query<{ n: number }>("SELECT count(*)::int AS n FROM webhook_events"))[0]!.n - WARM_UP;
    return { ...result, ackedMs, processedMs: Date.now() - started, stored };
  } finally {
    await stack.close();
  }
}
