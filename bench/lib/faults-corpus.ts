import crypto from "node:crypto";
import { corpus, SUSPECTS, type Case } from "./faults-corpus-cases";
import { authCases } from "./faults-corpus-auth";
import { webhookCases } from "./faults-corpus-hooks";
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
}

async function run(stack: Stack, url: string, c: Case): Promise<Row> {
  const beforeSetup = stack.sandbox.state.requests.length;
  await c.setup?.();
  const before = stack.sandbox.state.requests.length;
  let status: number | string;
  let type = "";
  let text = "";
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
  }
  if (calls > 0 && !c.reachesHighLevel) problems.push(`${calls} HighLevel call(s)`);
  const code = type.includes("json") ? /"code":"([a-z_]+)"/.exec(text)?.[1] : undefined;
  return {
    name: c.name,
    status: code ? `${status} ${code}` : status,
    ok: problems.length === 0,
    why: problems.join(", "),
    calls: c.reachesHighLevel ? 0 : calls,
    setupCalls: before - beforeSetup,
  };
}

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
  const stack = await startStack({
    processes: 1,
    sandbox: { companies: [agency(3), other] },
    env: {
      HIGHLEVEL_WEBHOOK_ED25519_PUBLIC_KEY: hookKeys.publicKey.export({ type: "spki", format: "pem" }).toString(),
      HIGHLEVEL_SSO_KEY: ssoKey,
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
    const cases = [...corpus(ctx), ...webhookCases(ctx), ...authCases(ctx)];
    const start = stack.sandbox.state.requests.length;
    const rows: Row[] = [];
    for (const c of cases) rows.push(await run(stack, url, c));
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
      ...rows.map((r) => `${r.name.padEnd(width)}  ${String(r.status).padEnd(32)}  ${r.ok ? "ok" : `NO — ${r.why}`}`),
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
    return {
      title: `4. Bad-input corpus (${cases.length} cases)`,
      goal: "every case 4xx application/problem+json (pages: text/html; the two free-text titles 201, a fresh replay 200 duplicate, signed deliveries with NUL or an odd type 200 accepted), no 5xx, no HighLevel call",
      pass: bad.length === 0 && strayCalls <= 0 && alive,
      figures: [
        ["cases", cases.length],
        ["as expected", rows.length - bad.length],
        ["not as expected", bad.length],
        ["5xx answers", fives.length],
        ["HighLevel calls beyond the expected ones", Math.max(0, strayCalls)],
      ],
      findings,
      detail,
    };
  } finally {
    await stack.close();
  }
}
