import { authHeaders, slotFor, until, type Stack } from "./stack";

export interface BulkOutcome {
  wallMs: number;
  total: number;
  succeeded: number;
  failed: number;
  /** Items whose block is nowhere in HighLevel though they were not reported failed. */
  lost: number;
  /** Blocks HighLevel holds more than once for one item. */
  duplicated: number;
  status: string;
}

/** One item per location (wrapping round), submitted as one job through the app's API. */
export async function submitBulk(stack: Stack, locations: number, items: number, appIndex = 0) {
  const body = { items: Array.from({ length: items }, (_, i) => slotFor(i, `loc-${i % locations}`)) };
  const send = () =>
    fetch(`${stack.apps[appIndex]!.url}/api/block-slots/bulk`, {
      method: "POST",
      headers: authHeaders,
      body: JSON.stringify(body),
    });
  const res = await send();
  if (res.status !== 202) {
    throw new Error(`bulk submit answered ${res.status} ${JSON.stringify([...res.headers])}: ${await res.text()}`);
  }
  const { id } = (await res.json()) as { id: string };
  return { id, items: body.items };
}

/** Waits for the job to finish and checks it against what HighLevel (the sandbox) really holds. */
export async function awaitBulk(
  stack: Stack,
  job: { id: string; items: ReturnType<typeof slotFor>[] },
  startedAt: number,
  timeoutMs = 300_000,
): Promise<BulkOutcome> {
  let status = "";
  await until(async () => {
    const live = stack.apps.find((a) => a.child.exitCode === null && a.child.signalCode === null) ?? stack.apps[0]!;
    const res = await fetch(`${live.url}/api/block-slots/bulk/${job.id}?items=none`, { headers: authHeaders }).catch(
      () => undefined,
    );
    if (!res?.ok) return false;
    const view = (await res.json()) as { status: string; counts: { pending: number } };
    status = view.status;
    return view.counts.pending === 0;
  }, timeoutMs);
  const wallMs = Date.now() - startedAt;
  const rows = await stack.query<{ status: string; n: number }>(
    "SELECT status::text, count(*)::int AS n FROM bulk_items WHERE job_id = $1 GROUP BY 1",
    [job.id],
  );
  const count = (s: string) => rows.find((r) => r.status === s)?.n ?? 0;
  const byTitle = new Map<string, number>();
  for (const item of job.items) {
    for (const slot of stack.sandbox.state.blockSlots(item.locationId)) {
      if (slot.title === item.title) byTitle.set(item.title, (byTitle.get(item.title) ?? 0) + 1);
    }
  }
  const statuses = await stack.query<{ index: number; status: string }>(
    "SELECT index, status::text FROM bulk_items WHERE job_id = $1",
    [job.id],
  );
  const failedIndexes = new Set(statuses.filter((r) => r.status === "failed").map((r) => r.index));
  // Lost: neither in HighLevel nor reported failed — the work silently vanished.
  const lost = job.items.filter((item, i) => !byTitle.has(item.title) && !failedIndexes.has(i)).length;
  return {
    wallMs,
    total: job.items.length,
    succeeded: count("succeeded"),
    failed: count("failed"),
    lost,
    duplicated: [...byTitle.values()].reduce((sum, n) => sum + Math.max(0, n - 1), 0),
    status,
  };
}
