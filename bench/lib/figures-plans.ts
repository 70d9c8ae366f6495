import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { buildAgency, type SandboxCompany } from "../../sandbox";
import { companyKey, cpuMs, installAgency, sleep, startStack, until, type Stack } from "./stack";

const AGENCY = "bench-agency";
/** Lunch on `weekdays` weekdays from Monday 1 March 2027: the US zones change to summer time on the 14th. */
const lunch = (weekdays: number) => ({
  start: "2027-03-01T12:00",
  end: "2027-03-01T13:00",
  rrule: `FREQ=WEEKLY;BYDAY=MO,TU,WE,TH,FR;COUNT=${weekdays}`,
});

/** The fixture agency (zones rotating over nine, one staff member each), with a second calendar per location. */
export function planAgency(locations: number): SandboxCompany {
  const company = buildAgency(locations, { id: AGENCY, name: "Bench Agency" });
  for (const location of company.locations) {
    const staff = location.users!.map((u) => u.id);
    location.calendars!.push({ id: `${location.id}-rooms`, name: `${location.name} rooms`, teamMembers: staff });
  }
  return company;
}

interface PlanView {
  status: string;
  counts: Record<"pending" | "created" | "failed" | "removed", number>;
}

/** One block as the sandbox (HighLevel) holds it or the preview promised it: where and when, to the ms. */
const blockKey = (b: { locationId: string; calendarId?: string; startTime: string; endTime: string }) =>
  `${b.locationId}|${b.calendarId}|${Date.parse(b.startTime)}|${Date.parse(b.endTime)}`;

/** The sandbox's blocks titled `title` against the expected set: each expected once, nothing else. */
function compare(stack: Stack, title: string, expected: Set<string>) {
  const seen = new Map<string, number>();
  for (const slot of stack.sandbox.state.slots.values()) {
    if (slot.title === title) seen.set(blockKey(slot), (seen.get(blockKey(slot)) ?? 0) + 1);
  }
  return {
    lost: [...expected].filter((k) => !seen.has(k)).length,
    duplicated: [...seen.values()].reduce((sum, n) => sum + n - 1, 0),
    extra: [...seen.keys()].filter((k) => !expected.has(k)).length,
  };
}

const held = (stack: Stack, title: string) =>
  [...stack.sandbox.state.slots.values()].filter((s) => s.title === title).length;

/**
 * CPU used so far by everything the figure runs on this machine: the app processes, PostgreSQL
 * (its postmaster, the children alive, and those reaped) and this process (the sandbox, the client).
 */
function cpuNow(stack: Stack, postmaster: number) {
  const children = fs
    .readdirSync("/proc")
    .filter((d) => /^\d+$/.test(d))
    .flatMap((d) => {
      try {
        const fields = fs.readFileSync(`/proc/${d}/stat`, "utf8").split(") ")[1]!.split(" ");
        return Number(fields[1]) === postmaster ? [Number(d)] : [];
      } catch {
        return []; // gone meanwhile
      }
    });
  const reaped = fs.readFileSync(`/proc/${postmaster}/stat`, "utf8").split(") ")[1]!.split(" ");
  const pg =
    cpuMs(postmaster) + (Number(reaped[13]) + Number(reaped[14])) * 10 + children.reduce((s, p) => s + safeCpu(p), 0);
  const usage = process.cpuUsage();
  // The whole machine's (other work on it included): jiffies busy and in all, over every core.
  const jiffies = fs.readFileSync("/proc/stat", "utf8").split("\n")[0]!.split(/\s+/).slice(1).map(Number);
  const idle = jiffies[3]! + jiffies[4]!;
  const total = jiffies.slice(0, 8).reduce((a, b) => a + b, 0);
  return {
    machineBusy: total - idle,
    machineTotal: total,
    app: stack.apps.reduce((s, a) => s + safeCpu(a.pid), 0),
    pg,
    bench: (usage.user + usage.system) / 1000,
  };
}

function safeCpu(pid: number): number {
  try {
    return cpuMs(pid);
  } catch {
    return 0;
  }
}

/**
 * What both plan figures start from: the agency installed at HighLevel's real limits with the app's
 * shipped budget, every location's zone stored, and the public API at hand with its company key.
 */
async function planStack(locations: number, weekdays: number) {
  const company = planAgency(locations);
  const stack = await startStack({
    processes: 1,
    sandbox: { companies: [company], rateLimit: { burst: 100, intervalMs: 10_000 } },
    env: { HIGHLEVEL_BURST_LIMIT: "" },
  });
  try {
    await installAgency(stack, AGENCY, 900_000);
    // The install reads each location's details (its zone) in the background: wait for all of them.
    const zoned = await until(async () => {
      const [row] = await stack.query<{ n: number }>(
        `SELECT count(*)::int AS n FROM locations WHERE company_id = $1 AND time_zone IS NOT NULL`,
        [AGENCY],
      );
      return row!.n === locations;
    }, 300_000);
    if (!zoned) throw new Error("the install did not store every location's time zone");
    const key = await companyKey(stack, AGENCY);
    const [dir] = await stack.query<{ data_directory: string }>("SHOW data_directory");
    const postmaster = Number(fs.readFileSync(path.join(dir!.data_directory, "postmaster.pid"), "utf8").split("\n")[0]);

    const call = async <T>(method: string, route: string, body?: unknown): Promise<{ status: number; body: T }> => {
      const res = await fetch(`${stack.apps.at(-1)!.url}${route}`, {
        method,
        headers: { Authorization: `Bearer ${key}`, "Content-Type": "application/json" },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      });
      const text = await res.text();
      return { status: res.status, body: (text ? JSON.parse(text) : undefined) as T };
    };
    const expect = <T>(answer: { status: number; body: T }, status: number, what: string): T => {
      if (answer.status !== status) throw new Error(`${what}: HTTP ${answer.status} ${JSON.stringify(answer.body)}`);
      return answer.body;
    };
    const plan = (id: string) => call<PlanView>("GET", `/api/block-plans/${id}?blocks=none`);
    const body = (title: string) => ({
      title,
      targets: [{ companyId: AGENCY, calendars: "all" }],
      schedule: lunch(weekdays),
    });
    const rejected429 = () =>
      company.locations.reduce((sum, l) => sum + stack.sandbox.state.rateLimiter.rejected(l.id), 0) +
      stack.sandbox.state.rateLimiter.rejected(AGENCY);
    /** Applies a plan, timed from the request until HighLevel holds every block and the plan says so. */
    const apply = async (title: string) => {
      const started = performance.now();
      const applied = expect(await call<{ id: string }>("POST", "/api/block-plans", body(title)), 202, "apply");
      const answeredMs = performance.now() - started;
      let view: PlanView | undefined;
      await until(
        async () => {
          view = expect(await plan(applied.id), 200, "plan");
          return view.counts.pending === 0 && held(stack, title) >= view.counts.created;
        },
        3_600_000,
        250,
      );
      return { applied, view, answeredMs, ms: performance.now() - started };
    };
    return { stack, postmaster, call, expect, plan, body, apply, rejected429 };
  } catch (err) {
    await stack.close();
    throw err;
  }
}

type Preview = {
  total: number;
  blocks: { locationId: string; calendarId: string; startTime: string; endTime: string }[];
};

/**
 * The block-plan figure: a plan over `locations` locations × 2 calendars × 20 weekdays, the sandbox
 * at HighLevel's real limits and the app at its shipped budget, driven through the public API with
 * the agency's company-scoped key. Preview (calendars and zones already known), apply, undo, and a
 * second apply whose only app process is SIGKILLed part-way and replaced by a fresh one.
 */
export async function blockPlanFigure(options: { locations: number; killAt: number }) {
  const { stack, postmaster, call, expect, plan, body, apply, rejected429 } = await planStack(options.locations, 20);
  try {
    // 1. Preview: the first lists every location's calendars; the one measured is the user's next look.
    let started = performance.now();
    expect(await call<Preview>("POST", "/api/block-plans/preview", body("Lunch")), 200, "first preview");
    const firstPreviewMs = performance.now() - started;
    started = performance.now();
    const preview = expect(await call<Preview>("POST", "/api/block-plans/preview", body("Lunch")), 200, "preview");
    const previewMs = performance.now() - started;
    const expected = new Set(preview.blocks.map(blockKey));

    // 2. Apply, timed from the request until HighLevel holds every block and the plan says so.
    const applyTitle = "Lunch – applied";
    const cpuBefore = cpuNow(stack, postmaster);
    const load = os.loadavg()[0]!;
    const { applied, view: applyView, answeredMs: applyAnsweredMs, ms: applyMs } = await apply(applyTitle);
    const cpuAfter = cpuNow(stack, postmaster);
    const applyCheck = compare(stack, applyTitle, expected);

    // 3. Undo, timed until HighLevel holds none of the plan's blocks.
    started = performance.now();
    expect(await call("DELETE", `/api/block-plans/${applied.id}`), 202, "undo");
    let undoView: PlanView | undefined;
    await until(
      async () => {
        undoView = expect(await plan(applied.id), 200, "plan");
        return undoView.status === "deleted" && held(stack, applyTitle) === 0;
      },
      3_600_000,
      250,
    );
    const undoMs = performance.now() - started;
    const remaining = held(stack, applyTitle);

    // 4. The same plan again, its only app process SIGKILLed once `killAt` of the blocks exist. The
    // first plan is gone from HighLevel by now, so nothing of it is a conflict of this one.
    const crashTitle = "Lunch – crashed";
    const crashed = expect(await call<{ id: string }>("POST", "/api/block-plans", body(crashTitle)), 202, "apply");
    await until(() => Promise.resolve(held(stack, crashTitle) >= expected.size * options.killAt), 3_600_000, 100);
    const victim = stack.apps.at(-1)!;
    victim.child.kill("SIGKILL");
    const killedAt = performance.now();
    const heldAtKill = held(stack, crashTitle);
    await new Promise((resolve) =>
      victim.child.exitCode !== null ? resolve(null) : victim.child.once("exit", resolve),
    );
    const [cut] = await stack.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM plan_blocks WHERE plan_id = $1 AND status = 'pending' AND sent`,
      [crashed.id],
    );
    await stack.startApp();
    let crashView: PlanView | undefined;
    await until(
      async () => {
        crashView = expect(await plan(crashed.id), 200, "plan");
        return crashView.counts.pending === 0;
      },
      3_600_000,
      250,
    );
    const recoveryMs = performance.now() - killedAt;
    await sleep(500); // an answer HighLevel sent just before may still be on its way to the sandbox's map
    const crashCheck = compare(stack, crashTitle, expected);

    const cpu = (k: "app" | "pg" | "bench") => Math.round(cpuAfter[k] - cpuBefore[k]);
    const machineBusy =
      (cpuAfter.machineBusy - cpuBefore.machineBusy) / (cpuAfter.machineTotal - cpuBefore.machineTotal);
    return {
      locations: options.locations,
      blocks: preview.total,
      firstPreviewMs: Math.round(firstPreviewMs),
      previewMs: Math.round(previewMs),
      applyAnsweredMs: Math.round(applyAnsweredMs),
      applyMs: Math.round(applyMs),
      applyStatus: applyView?.status,
      applyCounts: applyView?.counts,
      applyCheck,
      loadAtApply: Math.round(load * 10) / 10,
      cpuMs: { app: cpu("app"), pg: cpu("pg"), bench: cpu("bench") },
      machineBusy,
      undoMs: Math.round(undoMs),
      undoStatus: undoView?.status,
      remaining,
      heldAtKill,
      inFlightAtKill: cut!.n,
      recoveryMs: Math.round(recoveryMs),
      crashStatus: crashView?.status,
      crashCheck,
      rejected429: rejected429(),
      invalid: stack.sandbox.state.invalidRequests().length,
    };
  } finally {
    await stack.close();
  }
}

/**
 * An apply the rate limit holds back: few locations, many blocks each (`weekdays` × 2 calendars),
 * so each location's calls take several of HighLevel's 10-second windows. Only the apply is timed,
 * once the previews' reads have left the window; returned with the calls each location received.
 */
export async function limitBoundApplyFigure(options: { locations: number; weekdays: number }) {
  const { stack, call, expect, body, apply, rejected429 } = await planStack(options.locations, options.weekdays);
  try {
    const preview = expect(await call<Preview>("POST", "/api/block-plans/preview", body("Lunch")), 200, "preview");
    const expected = new Set(preview.blocks.map(blockKey));
    // The preview's reads count against each location's window too: let them age out first.
    await sleep(11_000);
    const invalidBefore = stack.sandbox.state.invalidRequests().length;
    stack.sandbox.state.resetRequests();
    const title = "Lunch – held back";
    const { view, ms } = await apply(title);
    const calls = stack.sandbox.state.requests.filter((r) => r.path.startsWith("/calendars/"));
    await sleep(500); // as in the main figure: a late answer may still be on its way
    return {
      locations: options.locations,
      blocks: preview.total,
      callsPerLocation: calls.length / options.locations,
      ...hundreds(calls),
      applyMs: Math.round(ms),
      counts: view?.counts,
      check: compare(stack, title, expected),
      rejected429: rejected429(),
      invalid: invalidBefore + stack.sandbox.state.invalidRequests().length,
    };
  } finally {
    await stack.close();
  }
}

/**
 * How each location's calls went, a hundred (HighLevel's burst) at a time, averaged over the
 * locations: how long a hundred took to send, and how long after its last call the next began.
 */
function hundreds(calls: { at: Date; headers: Record<string, unknown> }[]) {
  const byOwner = new Map<string, number[]>();
  for (const c of calls) {
    const owner = String(c.headers.authorization);
    byOwner.set(owner, [...(byOwner.get(owner) ?? []), c.at.getTime()]);
  }
  const spans: number[] = [];
  const gaps: number[] = [];
  for (const times of byOwner.values()) {
    for (let k = 100; k < times.length; k += 100) {
      spans.push(times[k - 1]! - times[k - 100]!);
      gaps.push(times[k]! - times[k - 1]!);
    }
  }
  const mean = (xs: number[]) => Math.round(xs.reduce((a, b) => a + b, 0) / Math.max(xs.length, 1));
  return { hundredSentInMs: mean(spans), nextHundredAfterMs: mean(gaps) };
}
