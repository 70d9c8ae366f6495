import { spawn } from "node:child_process";
import path from "node:path";
import { TokenCipher } from "../../src/tokens/crypto";
import { agency, startStack } from "./stack";

const ROOT = path.resolve(__dirname, "..", "..");
const SCOPES = ["calendars.readonly", "calendars/events.readonly", "calendars/events.write", "locations.readonly"];

/** Resolves with the first stdout line that satisfies `match`. */
function lineOf(child: ReturnType<typeof spawn>, match: (line: string) => boolean): Promise<string> {
  return new Promise((resolve, reject) => {
    let buffer = "";
    child.stdout!.on("data", (chunk: Buffer) => {
      buffer += chunk.toString();
      const lines = buffer.split("\n");
      buffer = lines.pop() ?? "";
      const found = lines.find(match);
      if (found !== undefined) resolve(found);
    });
    child.once("exit", (code) => reject(new Error(`refresher worker exited (${code}) before answering`)));
  });
}

/**
 * Agency scale, figure 3: `installations` sub-account installs (tokens issued by the sandbox and
 * stored encrypted, as an install stores them), every one due; `failing` of them refused by
 * HighLevel ("Location is not active"). `processes` app processes run one refresher sweep at once.
 */
export async function refresherCycle(options: { installations: number; failing: number; processes: number }) {
  const stack = await startStack({ processes: 1, sandbox: { companies: [agency(options.installations)] } });
  try {
    // The app process applied the migrations; its own refresher must not take part.
    const app = stack.apps[0]!;
    app.child.kill("SIGTERM");
    await new Promise((resolve) => app.child.once("exit", resolve));

    const cipher = TokenCipher.fromConfig(stack.env.TOKEN_ENCRYPTION_KEY!);
    const state = stack.sandbox.state;
    const ids = Array.from({ length: options.installations }, (_, i) => `loc-${i}`);
    const failing = new Set(ids.filter((_, i) => i % Math.round(options.installations / options.failing) === 0));
    const now = Date.now();
    for (let start = 0; start < ids.length; start += 1000) {
      const rows = ids.slice(start, start + 1000).map((id) => {
        const grant = { userType: "Location" as const, companyId: "bench-agency", locationId: id, scopes: SCOPES };
        const access = state.issueAccessToken(grant);
        const refresh = state.issueRefreshToken(grant);
        return {
          id,
          access: cipher.encrypt(access.token, `location:${id}:access`),
          refresh: cipher.encrypt(refresh.token, `location:${id}:refresh`),
          // Close to expiry and due: a sweep must ask HighLevel for each.
          expires: new Date(now + 30 * 60_000).toISOString(),
          due: new Date(now - 60_000 - (start % 7) * 1000).toISOString(),
        };
      });
      await stack.query(
        `INSERT INTO locations (id, name, source, status, access_token_enc, refresh_token_enc, token_expires_at,
                                scopes, next_refresh_at, updated_at)
         SELECT r.id, r.id, 'direct', 'active', r.access, r.refresh, r.expires, $2, r.due, now()
         FROM json_to_recordset($1::json) AS r(id text, access text, refresh text, expires timestamptz, due timestamptz)`,
        [JSON.stringify(rows), SCOPES.join(" ")],
      );
    }
    for (const id of failing) state.setLocationInactive(id, true);
    const before = state.refreshCount();

    const workers = Array.from({ length: options.processes }, () =>
      // The refresher test's worker: the app's real services, one sweep on "go".
      spawn(process.execPath, ["--import", "tsx", path.join(ROOT, "test", "support", "refresher-worker.ts")], {
        cwd: ROOT,
        env: { ...stack.env, LOG_LEVEL: "error" },
        stdio: ["pipe", "pipe", "inherit"],
      }),
    );
    try {
      await Promise.all(workers.map((w) => lineOf(w, (l) => l === "ready")));
      const results = workers.map((w) => lineOf(w, (l) => l.startsWith("{")));
      const started = performance.now();
      for (const w of workers) w.stdin.write("go\n");
      const sweeps = (await Promise.all(results)).map((l) => JSON.parse(l) as Record<string, number>);
      const wallS = Math.round((performance.now() - started) / 100) / 10;

      const healthy = ids.filter((id) => !failing.has(id));
      const perToken = healthy.map((id) => state.refreshCount(id));
      const [renewed] = await stack.query<{ n: string }>(
        `SELECT count(*) AS n FROM locations WHERE status = 'active' AND last_refreshed_at IS NOT NULL`,
      );
      return {
        installations: options.installations,
        failing: failing.size,
        processes: options.processes,
        wallS,
        healthyRenewed: Number(renewed!.n),
        healthy: healthy.length,
        renewedOnce: perToken.filter((n) => n === 1).length,
        renewedTwice: perToken.filter((n) => n > 1).length,
        failingTries: [...failing].reduce((sum, id) => sum + state.refreshCount(id), 0),
        refreshRequests: state.refreshCount() - before,
        perProcess: sweeps.map((s) => s.checked ?? 0),
      };
    } finally {
      for (const w of workers) if (w.exitCode === null) w.kill("SIGKILL");
    }
  } finally {
    await stack.close();
  }
}
