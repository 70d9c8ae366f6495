import { closeRestarted, connect, guardStackClient, restartable, type RestartablePostgres } from "./faults-pg";
import { histogram, percentile, type FaultResult } from "./faults-report";
import { authHeaders, installAgency, sleep, slotFor, faultStack, until } from "./stack";

const LOCATIONS = 20;
const CLIENTS = 16;
const OUTAGE_MS = 8_000;
/** A request still unanswered after this counts as a hang. */
const HANG_MS = 15_000;
const RECOVERY_GOAL_MS = 5_000;

interface Sample {
  route: "GET installations" | "POST block-slot";
  start: number;
  end: number;
  /** HTTP status, or "hang" (client time-out) / "error" (connection refused or reset). */
  status: number | "hang" | "error";
  problemJson: boolean;
  code?: string;
}

/** One API call as a client sees it: status, content type, problem code, time. */
async function call(url: string, route: Sample["route"], i: number): Promise<Sample> {
  const start = Date.now();
  // The create body names its location in the path, not the body.
  const { locationId: _l, ...slot } = slotFor(i, `loc-${i % LOCATIONS}`);
  const init: RequestInit =
    route === "GET installations"
      ? { headers: authHeaders }
      : { method: "POST", headers: authHeaders, body: JSON.stringify(slot) };
  const target =
    route === "GET installations" ? "/api/installations" : `/api/locations/loc-${i % LOCATIONS}/block-slots`;
  try {
    const res = await fetch(url + target, { ...init, signal: AbortSignal.timeout(HANG_MS) });
    const text = await res.text();
    const problemJson = (res.headers.get("content-type") ?? "").startsWith("application/problem+json");
    const code = problemJson ? (JSON.parse(text) as { code?: string }).code : undefined;
    return { route, start, end: Date.now(), status: res.status, problemJson, ...(code ? { code } : {}) };
  } catch (err) {
    const hang = (err as Error).name === "TimeoutError";
    return { route, start, end: Date.now(), status: hang ? "hang" : "error", problemJson: false };
  }
}

const ms = (n: number) => (Number.isFinite(n) ? `${n} ms` : "never");
const ok = (s: Sample) => typeof s.status === "number" && s.status < 300;
const describe = (samples: Sample[]) =>
  histogram(
    samples.map(
      (s) => `${s.status}${s.code ? ` ${s.code}` : ""}${ok(s) || s.problemJson ? "" : " (not problem+json)"}`,
    ),
  );

/**
 * The durable queue came back too: a small bulk job submitted after the restart finishes. Read
 * through the API only: the stack's own query client died with the first server.
 */
async function queueWorks(url: string): Promise<{ status: string; ms: number }> {
  const start = Date.now();
  const items = Array.from({ length: 20 }, (_, i) => slotFor(800_000 + i, `loc-${i % LOCATIONS}`));
  const res = await fetch(`${url}/api/block-slots/bulk`, {
    method: "POST",
    headers: authHeaders,
    body: JSON.stringify({ items }),
  });
  if (res.status !== 202) return { status: `refused (${res.status})`, ms: Date.now() - start };
  const { id } = (await res.json()) as { id: string };
  let status = "still pending after 30 s";
  await until(async () => {
    const view = await fetch(`${url}/api/block-slots/bulk/${id}?items=none`, { headers: authHeaders });
    const body = (await view.json()) as { status: string; counts: { pending: number } };
    if (body.counts.pending > 0) return false;
    status = body.status;
    return true;
  }, 30_000);
  return { status, ms: Date.now() - start };
}

/**
 * Fault 2: PostgreSQL stops under steady API traffic and comes back on the same data. The app
 * must say so (/readyz 503, API 503 problem+json, fast), recover by itself, and keep every token.
 */
export async function postgresRestart(): Promise<FaultResult> {
  const stack = await faultStack(LOCATIONS);
  let pg: RestartablePostgres;
  try {
    await installAgency(stack, "bench-agency");
    pg = await restartable(stack);
  } catch (err) {
    await stack.close(); // PostgreSQL was not touched yet: the ordinary close works.
    throw err;
  }
  const unguard = guardStackClient();
  const app = stack.apps[0]!;
  // Cleared in `finally` too, so a failed restart does not leave the clients looping.
  let running = true;
  try {
    const samples: Sample[] = [];
    const ready: { at: number; status: number | "error" }[] = [];
    let sequence = 0;
    const clients = Array.from({ length: CLIENTS }, async (_, c) => {
      while (running) {
        const i = sequence++;
        samples.push(await call(app.url, c % 2 === 0 ? "GET installations" : "POST block-slot", i));
        // A refused connection answers at once: do not spin.
        if (samples.at(-1)!.status === "error") await sleep(50);
      }
    });
    const poller = (async () => {
      while (running) {
        const res = await fetch(`${app.url}/readyz`, { signal: AbortSignal.timeout(HANG_MS) }).catch(() => undefined);
        ready.push({ at: Date.now(), status: res?.status ?? "error" });
        await sleep(100);
      }
    })();

    await sleep(3_000);
    const stopAt = Date.now();
    await pg.stop();
    const stoppedAt = Date.now();
    await sleep(OUTAGE_MS);
    const startAt = Date.now();
    await pg.start();
    const startedAt = Date.now();
    await sleep(8_000);
    running = false;
    await Promise.all([...clients, poller]);

    const outage = samples.filter((s) => s.start >= stoppedAt && s.end <= startAt);
    const notReady = ready.find((r) => r.at > stoppedAt && r.status === 503);
    const readyAgain = ready.find((r) => r.at > startedAt && r.status === 200);
    // Serving again: per route, the first success after the last failure since the restart (or
    // the first success, when none failed); the later of the two routes.
    const after = samples.filter((s) => s.start >= startedAt).sort((a, b) => a.start - b.start);
    const servingAt = (["GET installations", "POST block-slot"] as const).map((route) => {
      const mine = after.filter((s) => s.route === route);
      const lastFailure = mine.filter((s) => !ok(s)).at(-1);
      return mine.find((s) => ok(s) && (!lastFailure || s.start > lastFailure.start))?.end ?? NaN;
    });
    const recoveredAt = Math.max(...servingAt);
    const slowest = Math.max(0, ...outage.map((s) => s.end - s.start));
    const hangs = outage.filter((s) => s.status === "hang").length;
    // Creates can still succeed early in the outage: the app keeps access tokens in memory for a few seconds.
    const served = outage.filter(ok);
    const failed = outage.filter((s) => !ok(s));
    const right503 = failed.filter((s) => s.status === 503 && s.problemJson).length;
    const lastServed = Math.max(stoppedAt, ...served.map((s) => s.end)) - stoppedAt;

    // Tokens: every location still active with both tokens, and usable for a create.
    const db = await connect(stack.databaseUrl);
    const [tokens] = (
      await db.query<{ all: number; ok: number }>(
        `SELECT count(*)::int AS all, count(*) FILTER (WHERE status = 'active' AND access_token_enc IS NOT NULL
           AND refresh_token_enc IS NOT NULL)::int AS ok FROM locations`,
      )
    ).rows;
    await db.end();
    const checks = await Promise.all(
      [0, 5, 10, 15, 19].map((n) => call(app.url, "POST block-slot", 900_000 + n * LOCATIONS + n)),
    );
    const created = checks.filter((s) => s.status === 201).length;
    const queue = await queueWorks(app.url);
    const alive = app.child.exitCode === null && app.child.signalCode === null;

    const findings: string[] = [];
    const wrong = failed.filter((s) => !(s.status === 503 && s.problemJson));
    for (const route of ["GET installations", "POST block-slot"] as const) {
      const bad = wrong.filter((s) => s.route === route);
      if (!bad.length) continue;
      const name = route === "GET installations" ? "GET /api/installations" : "POST /api/locations/:id/block-slots";
      const all500 = bad.every((s) => s.status === 500 && s.code === "internal_error");
      findings.push(
        `${name} answered ${describe(bad)} while PostgreSQL was down, not 503 problem+json` +
          (all500
            ? ": nothing maps a database connection error to 503, so it falls through to 500 internal_error in toProblem() (src/http/errors.ts)"
            : ""),
      );
    }
    if (!notReady) findings.push("/readyz never answered 503 while PostgreSQL was down");
    if (hangs) findings.push(`${hangs} request(s) hung past ${HANG_MS / 1000} s during the outage`);
    if (!alive) findings.push(`the app process died (exit ${app.child.exitCode ?? app.child.signalCode})`);
    const readyMs = readyAgain ? readyAgain.at - startedAt : NaN;
    const apiMs = recoveredAt - startedAt;
    if (!(readyMs <= RECOVERY_GOAL_MS) || !(apiMs <= RECOVERY_GOAL_MS))
      findings.push(`recovery took longer than ${RECOVERY_GOAL_MS / 1000} s`);
    if (tokens!.ok !== tokens!.all) findings.push(`${tokens!.all - tokens!.ok} location(s) lost their tokens`);
    if (created !== checks.length) findings.push(`creates afterwards: ${describe(checks)}`);
    if (queue.status !== "done") findings.push(`a bulk job after the restart ended ${queue.status}`);

    return {
      title: `2. PostgreSQL stopped for ${OUTAGE_MS / 1000} s under load (${CLIENTS} clients: GET installations, POST block slots)`,
      goal: `/readyz 503 and API 503 problem+json during the outage, no answer slower than ${HANG_MS / 1000} s, ready and serving ≤ ${RECOVERY_GOAL_MS / 1000} s after restart, no token lost`,
      pass: findings.length === 0,
      figures: [
        ["requests in all", samples.length],
        ["before the outage", describe(samples.filter((s) => s.end < stopAt))],
        ["pg_ctl stop (fast) took", ms(stoppedAt - stopAt)],
        ["/readyz 503 after stop", notReady ? ms(notReady.at - stoppedAt) : "never"],
        ["outage: GET /api/installations", describe(outage.filter((s) => s.route === "GET installations"))],
        ["outage: POST block-slots", describe(outage.filter((s) => s.route === "POST block-slot"))],
        ["outage: answered 2xx (cached tokens)", `${served.length}, the last ${ms(lastServed)} into the outage`],
        ["outage: failures that were 503 problem+json", `${right503} of ${failed.length}`],
        ["outage: slowest answer", ms(slowest)],
        [
          "outage: p99 answer",
          ms(
            percentile(
              outage.map((s) => s.end - s.start),
              99,
            ),
          ),
        ],
        ["outage: hangs (> 15 s)", hangs],
        ["pg_ctl start took", ms(startedAt - startAt)],
        ["/readyz 200 after restart", ms(readyMs)],
        ["API serving again after restart", ms(apiMs)],
        ["failures after the restart", describe(after.filter((s) => !ok(s)))],
        ["locations active with tokens", `${tokens!.ok} of ${tokens!.all}`],
        ["creates afterwards (5 locations)", `${created} of ${checks.length} → 201`],
        ["bulk of 20 after the restart", `${queue.status} in ${ms(queue.ms)}`],
        ["app process alive", alive ? "yes" : "no"],
      ],
      findings,
    };
  } finally {
    running = false;
    await closeRestarted(stack, pg);
    unguard();
  }
}
