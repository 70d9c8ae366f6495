import autocannon from "autocannon";
import { Pool } from "undici";

export interface LoadResult {
  rps: number;
  p50: number;
  p99: number;
  requests: number;
  non2xx: number;
  errors: number;
}

/**
 * autocannon with keep-alive connections; `next(i)` builds the i-th request, so every request can
 * carry its own path and body (a new block each time, spread over many locations).
 */
export async function load(options: {
  url: string;
  connections: number;
  /** Run this long, or until `amount` requests were sent. */
  durationS?: number;
  amount?: number;
  next: (i: number) => { method?: "GET" | "POST"; path: string; headers: Record<string, string>; body?: string };
}): Promise<LoadResult> {
  let i = 0;
  const start = performance.now();
  let lastAnswer = start;
  let finished: (result: autocannon.Result) => void = () => {};
  let failed: (err: unknown) => void = () => {};
  const done = new Promise<autocannon.Result>((resolve, reject) => ((finished = resolve), (failed = reject)));
  const instance = autocannon(
    {
      url: options.url,
      connections: options.connections,
      ...(options.amount ? { amount: options.amount } : { duration: options.durationS ?? 10 }),
      requests: [
        {
          setupRequest: (req) => {
            const r = options.next(i++);
            // A copy: autocannon writes Content-Length into the headers object it is given.
            return {
              ...req,
              method: r.method ?? "POST",
              path: r.path,
              headers: { ...r.headers },
              body: r.body,
            };
          },
        },
      ],
    },
    (err, result) => (err ? failed(err) : finished(result)),
  );
  // autocannon ends a run on its one-second tick: the rate is taken up to the last answer instead.
  // Its percentiles are whole milliseconds; the added latency is a difference of two of them, so
  // the 2xx answers' times are kept here to a hundredth of a millisecond.
  const times: number[] = [];
  instance.on("response", (_client, status: number, _bytes, ms: number) => {
    lastAnswer = performance.now();
    if (status >= 200 && status < 300) times.push(ms);
  });
  const result = await done;
  const at = (p: number) => Math.round(percentile(times, p) * 100) / 100;
  return {
    rps: Math.round(result.requests.total / ((lastAnswer - start) / 1000)),
    p50: times.length ? at(50) : result.latency.p50,
    p99: times.length ? at(99) : result.latency.p99,
    requests: result.requests.total,
    non2xx: result.non2xx,
    errors: result.errors + result.timeouts,
  };
}

export function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? 0;
}

/**
 * A steady offered load: request i is sent at start + i / rate, whether or not earlier ones were
 * answered (autocannon's rate limit sends each second's quota at once, which measures its bursts).
 * Latency is timed per request from when it was due, so a late send counts against the server.
 */
export async function steadyLoad(options: {
  url: string;
  rate: number;
  /** Open connections at most; a request finding none free waits, and that wait is counted. */
  connections?: number;
  durationS?: number;
  amount?: number;
  next: (i: number) => { method?: "GET" | "POST"; path: string; headers: Record<string, string>; body?: string };
}): Promise<LoadResult> {
  const pool = new Pool(options.url, { connections: options.connections ?? 64, pipelining: 1 });
  const total = options.amount ?? Math.round(options.rate * (options.durationS ?? 10));
  const latencies: number[] = [];
  let non2xx = 0;
  let errors = 0;
  const start = performance.now();
  const sends: Promise<void>[] = [];
  for (let i = 0; i < total; i++) {
    const due = start + (i * 1000) / options.rate;
    const wait = due - performance.now();
    if (wait > 1) await new Promise((r) => setTimeout(r, wait));
    const r = options.next(i);
    sends.push(
      pool
        .request({ method: r.method ?? "POST", path: r.path, headers: r.headers, body: r.body })
        .then(async (res) => {
          await res.body.dump();
          latencies.push(performance.now() - due);
          if (res.statusCode < 200 || res.statusCode >= 300) non2xx++;
        })
        .catch((err: unknown) => {
          errors++;
          if (errors === 1) process.stderr.write(`steady load: ${String(err)}\n`);
        }),
    );
  }
  await Promise.all(sends);
  const elapsedS = (performance.now() - start) / 1000;
  await pool.close();
  const round = (ms: number) => Math.round(ms * 10) / 10;
  return {
    rps: Math.round(latencies.length / elapsedS),
    p50: round(percentile(latencies, 50)),
    p99: round(percentile(latencies, 99)),
    requests: latencies.length,
    non2xx,
    errors,
  };
}

/** As fast as answers come (autocannon) without a rate; a steady offered load with one. */
export const loadAt = (rate: number | undefined, options: Parameters<typeof load>[0]) =>
  rate ? steadyLoad({ ...options, rate }) : load(options);
