import autocannon from "autocannon";

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
  const result = await autocannon({
    url: options.url,
    connections: options.connections,
    ...(options.amount ? { amount: options.amount } : { duration: options.durationS ?? 10 }),
    requests: [
      {
        setupRequest: (req) => {
          const r = options.next(i++);
          return { ...req, method: r.method ?? "POST", path: r.path, headers: r.headers, body: r.body } as typeof req;
        },
      },
    ],
  });
  return {
    rps: Math.round(result.requests.average),
    p50: result.latency.p50,
    p99: result.latency.p99,
    requests: result.requests.total,
    non2xx: result.non2xx,
    errors: result.errors + result.timeouts,
  };
}

export function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? 0;
}
