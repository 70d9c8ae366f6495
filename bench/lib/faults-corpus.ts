import crypto from "node:crypto";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { corpus, SUSPECTS, type Case } from "./faults-corpus-cases";
import { authCases } from "./faults-corpus-auth";
import { webhookCases } from "./faults-corpus-hooks";
import { worstCaseUploads } from "./faults-corpus-uploads";
import type { FaultResult } from "./faults-report";
import { agency, companyKey, installAgency, sleep, startStack, type Stack } from "./stack";

interface Row {
  name: string;
  status: number | string;
  ok: boolean;
  why: string;
  /** HighLevel calls seen while this case ran (not counting those its answer is meant to make). */
  calls: number;
  /** HighLevel calls its setup made (a first delivery, a first use of a key). */
  setupCalls: number;
  /** For a watched case: the slowest /healthz answer while it ran, in ms, how many were asked, and the app's longest event-loop delay. */
  stall?: { slowestMs: number; probes: number } & LoopReport;
}

/** What the app process saw of its own event loop since the previous reading (bench/lib/loop-delay.cjs). */
interface LoopReport {
  /** The latest a timer ran, in wall-clock ms: on a loaded machine this includes waiting for a core. */
  lateMs: number;
  /** The most CPU one turn of the loop used (its own thread's), in ms: the app's own doing, whatever the load. */
  cpuMs: number;
}

/**
 * Reads the app process's own account of its event loop (preloaded bench/lib/loop-delay.cjs).
 * Unlike /healthz timed from here, it does not count this process or the network.
 */
function loopReader(pid: number, file: string) {
  let seq = 0;
  return async (): Promise<LoopReport> => {
    seq += 1;
    process.kill(pid, "SIGUSR2");
    for (let i = 0; i < 500; i++) {
      const seen = fs.existsSync(file)
        ? (JSON.parse(fs.readFileSync(file, "utf8")) as LoopReport & { seq: number })
        : undefined;
      if (seen?.seq === seq) return { lateMs: seen.lateMs, cpuMs: seen.cpuMs };
      await sleep(20);
    }
    throw new Error("the app process did not report on its event loop");
  };
}

/**
 * Asks /healthz one request after another until stopped. The app answers it at once when its
 * event loop is free, so the slowest answer is (at least) the longest the loop was held.
 */
function watchHealthz(url: string) {
  let stopped = false;
  let slowestMs = 0;
  let probes = 0;
  const running = (async () => {
    while (!stopped) {
      const started = performance.now();
      await fetch(`${url}/healthz`).then((r) => r.arrayBuffer());
      slowestMs = Math.max(slowestMs, performance.now() - started);
      probes += 1;
    }
  })();
  return async () => {
    stopped = true;
    await running;
    return { slowestMs: Math.round(slowestMs), probes };
  };
}

async function run(stack: Stack, url: string, c: Case, readLoop: () => Promise<LoopReport>): Promise<Row> {
  const beforeSetup = stack.sandbox.state.requests.length;
  await c.setup?.();
  const before = stack.sandbox.state.requests.length;
  let status: number | string;
  let type = "";
  let text = "";
  if (c.watchLoop) await readLoop();
  const stopWatching = c.watchLoop ? watchHealthz(url) : undefined;
  try {
    const res = await fetch(url + c.path, {
      method: c.method ?? "GET",
      ...(c.headers ? { headers: c.headers } : {}),
      ...(c.body !== undefined ? { body: c.body } : {}),
      signal: AbortSignal.timeout(15_000),
    });
    status = res.status;
    type = res.headers.get("content-type") ?? "";
    text = await res.text();
  } catch (err) {
    status = (err as Error).name === "TimeoutError" ? "hang" : "reset";
  }
  const healthz = await stopWatching?.();
  const stall = healthz ? { ...healthz, ...(await readLoop()) } : undefined;
  const calls = stack.sandbox.state.requests.length - before;
  const expect = c.expect ?? "4xx";
  const problems: string[] = [];
  if (typeof status !== "number") problems.push(`no answer (${status})`);
  else {
    if (status >= 500) problems.push("5xx");
    else if (expect === "4xx" ? status < 400 || status > 499 : status !== expect) problems.push(`expected ${expect}`);
    const wantProblem = expect === "4xx" || expect >= 400;
    const wantType = c.html ? "text/html" : "application/problem+json";
    if (wantProblem && !type.startsWith(wantType)) problems.push(`content-type ${type || "none"}`);
    if ((!wantProblem || c.html) && c.check && !safeCheck(c.check, text)) problems.push("answer body not as expected");
    if (problems.length === 0 && c.after) await c.after(text);
  }
  if (stall && stall.cpuMs > STALL_GOAL_MS) problems.push(`one turn of the event loop took ${stall.cpuMs} ms of CPU`);
  if (calls > 0 && !c.reachesHighLevel) problems.push(`${calls} HighLevel call(s)`);
  const code = type.includes("json") ? /"code":"([a-z_]+)"/.exec(text)?.[1] : undefined;
  return {
    name: c.name,
    status: code ? `${status} ${code}` : status,
    ok: problems.length === 0,
    why: problems.join(", "),
    calls: c.reachesHighLevel ? 0 : calls,
    setupCalls: before - beforeSetup,
    ...(stall ? { stall } : {}),
  };
}

/** The longest a request may hold the event loop: what a /healthz may wait behind it. */
const STALL_GOAL_MS = 50;

function safeCheck(check: (body: string) => boolean, text: string): boolean {
  try {
    return check(text);
  } catch {
    return false;
  }
}

/** Fault 4: a corpus of bad input against a running app: all 4xx problem+json, none reaching HighLevel. */
export async function badInputCorpus(): Promise<FaultResult> {
  const hookKeys = crypto.generateKeyPairSync("ed25519");
  const ssoKey = crypto.randomBytes(24).toString("base64url");
  const other = { id: "other-agency", name: "Other Agency", locations: [{ id: "other-0", name: "Elsewhere" }] };
  const loopFile = path.join(os.tmpdir(), `bench-loop-delay-${process.pid}.json`);
  const stack = await startStack({
    processes: 1,
    nodeArgs: ["--require", path.join(__dirname, "loop-delay.cjs")],
    sandbox: { companies: [agency(3), other] },
    env: {
      HIGHLEVEL_WEBHOOK_ED25519_PUBLIC_KEY: hookKeys.publicKey.export({ type: "spki", format: "pem" }).toString(),
      HIGHLEVEL_SSO_KEY: ssoKey,
      LOOP_DELAY_FILE: loopFile,
    },
  });
  try {
    await installAgency(stack, "bench-agency");
    await installAgency(stack, "other-agency");
    const url = stack.apps[0]!.url;
    const ctx = {
      url,
      ssoKey,
      otherTenantKey: await companyKey(stack, "other-agency", "faults corpus"),
      webhookKey: hookKeys.privateKey,
    };
    const cases = [...corpus(ctx), ...webhookCases(ctx), ...authCases(ctx), ...worstCaseUploads(ctx)];
    const start = stack.sandbox.state.requests.length;
    const rows: Row[] = [];
    const readLoop = loopReader(stack.apps[0]!.pid, loopFile);
    for (const c of cases) rows.push(await run(stack, url, c, readLoop));
    // Work queued by an accepted request would call HighLevel later: give it a moment to show.
    await sleep(2_000);
    // The accepted titles each make one create; a setup (e.g. the first use of a key) may make more.
    const expectedCalls =
      cases.filter((c) => c.reachesHighLevel).length + rows.reduce((sum, r) => sum + r.setupCalls, 0);
    const strayCalls = stack.sandbox.state.requests.length - start - expectedCalls;
    const caseCalls = rows.reduce((sum, r) => sum + r.calls, 0);
    const alive = stack.apps[0]!.child.exitCode === null;

    const width = Math.max(...rows.map((r) => r.name.length));
    const detail = [
      `${"case".padEnd(width)}  ${"status".padEnd(32)}  ok`,
      ...rows.map(
        (r) =>
          `${r.name.padEnd(width)}  ${String(r.status).padEnd(32)}  ${r.ok ? "ok" : `NO — ${r.why}`}${r.stall ? `  (longest turn ${r.stall.cpuMs} ms CPU, timers ≤ ${r.stall.lateMs} ms late, slowest of ${r.stall.probes} /healthz ${r.stall.slowestMs} ms)` : ""}`,
      ),
    ];
    const bad = rows.filter((r) => !r.ok);
    const fives = rows.filter((r) => /^5/.test(String(r.status)));
    const findings = bad.map(
      (r) =>
        `${r.name}: answered ${r.status} (${r.why})${SUSPECTS[r.name] ? ` — likely cause: ${SUSPECTS[r.name]}` : ""}`,
    );
    if (strayCalls > caseCalls)
      findings.push(`${strayCalls - caseCalls} HighLevel call(s) made later, from queued work, by no single case`);
    if (!alive) findings.push("the app process died during the corpus");
    const watched = rows.filter((r) => r.stall);
    const longest = (key: "cpuMs" | "lateMs" | "slowestMs") =>
      watched.reduce<Row | undefined>((w, r) => (r.stall![key] > (w?.stall![key] ?? -1) ? r : w), undefined);
    const byCpu = longest("cpuMs");
    const byLate = longest("lateMs");
    const byHealthz = longest("slowestMs");
    return {
      title: `4. Bad-input corpus (${cases.length} cases)`,
      goal: `every case 4xx application/problem+json (pages: text/html; the two free-text titles 201, a fresh replay 200 duplicate, signed deliveries with NUL or an odd type 200 accepted, the largest valid upload 202), no 5xx, no HighLevel call; no turn of the app's event loop over ${STALL_GOAL_MS} ms of CPU during the worst-case uploads`,
      pass: bad.length === 0 && strayCalls <= 0 && alive,
      figures: [
        ["cases", cases.length],
        ["as expected", rows.length - bad.length],
        ["not as expected", bad.length],
        ["5xx answers", fives.length],
        ["HighLevel calls beyond the expected ones", Math.max(0, strayCalls)],
        [
          `longest turn of the app's event loop during the ${watched.length} worst-case uploads, in CPU of the loop's thread (goal ≤ ${STALL_GOAL_MS} ms)`,
          byCpu ? `${byCpu.stall!.cpuMs} ms (${byCpu.name})` : "none",
        ],
        [
          "latest the app ran a timer meanwhile (wall clock, includes waiting for a core)",
          byLate ? `${byLate.stall!.lateMs} ms (${byLate.name})` : "none",
        ],
        [
          "slowest /healthz asked from outside meanwhile (also this process and the network)",
          byHealthz
            ? `${byHealthz.stall!.slowestMs} ms (${byHealthz.name}); ${watched.reduce((n, r) => n + r.stall!.probes, 0)} asked`
            : "none",
        ],
        ...watched.map((r): [string, string] => [
          `  ${r.name}`,
          `${String(r.status)}; turn ≤ ${r.stall!.cpuMs} ms CPU, timers ≤ ${r.stall!.lateMs} ms late, /healthz ≤ ${r.stall!.slowestMs} ms`,
        ]),
        ["load average when the run ended (1 min, 2 cores)", os.loadavg()[0]!.toFixed(1)],
      ],
      findings,
      detail,
    };
  } finally {
    await stack.close();
  }
}
