/** Maps with at most `limit` calls in flight, keeping the input order in the result. */
export async function mapLimit<T, R>(
  items: readonly T[],
  limit: number,
  fn: (item: T, index: number) => Promise<R>,
): Promise<R[]> {
  const results = new Array<R>(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const index = next++;
      results[index] = await fn(items[index] as T, index);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return results;
}

/**
 * Group commit: items added while a flush is running wait and go together in the next one, so
 * under load one transaction (one WAL flush, a few round trips) carries many items, and alone an
 * item goes at once. `flush` answers per item, in order. When a flush throws, `split` says whether
 * to try each item of that batch on its own (one bad item must not fail the others) or to fail
 * them all with that error (the database is down: trying each would only take longer).
 */
export class GroupCommit<T, R> {
  private pending: { item: T; resolve: (r: R) => void; reject: (e: unknown) => void }[] = [];
  private running = false;

  constructor(
    private readonly flush: (items: T[]) => Promise<R[]>,
    private readonly options: { maxBatch: number; split: (err: unknown) => boolean },
  ) {}

  add(item: T): Promise<R> {
    return new Promise<R>((resolve, reject) => {
      this.pending.push({ item, resolve, reject });
      if (!this.running) void this.drain();
    });
  }

  private async drain(): Promise<void> {
    this.running = true;
    while (this.pending.length > 0) {
      const batch = this.pending.splice(0, this.options.maxBatch);
      try {
        const results = await this.flush(batch.map((b) => b.item));
        batch.forEach((b, i) => b.resolve(results[i]!));
      } catch (err) {
        if (batch.length === 1 || !this.options.split(err)) {
          for (const b of batch) b.reject(err);
          continue;
        }
        for (const b of batch) {
          try {
            b.resolve((await this.flush([b.item]))[0]!);
          } catch (one) {
            b.reject(one);
          }
        }
      }
    }
    this.running = false;
  }
}
