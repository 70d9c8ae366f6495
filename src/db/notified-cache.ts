/**
 * A process-local cache whose entries may live long while change notifications arrive (the
 * listener's `listening`), because every change then drops its entry at once; while they do not,
 * entries live `unnotifiedTtlMs` (default: not kept at all). A value read while a change was
 * announced is not kept: it may predate the change.
 */
export class NotifiedCache<V> {
  private readonly entries = new Map<string, { value: V; until: number }>();
  private generation = 0;
  private notifications: { readonly listening: boolean } | undefined;

  constructor(private readonly options: { ttlMs: number; unnotifiedTtlMs?: number; maxSize: number }) {}

  listenTo(notifications: { readonly listening: boolean }): void {
    this.notifications = notifications;
  }

  get(key: string): V | undefined {
    const entry = this.entries.get(key);
    return entry && entry.until > Date.now() ? entry.value : undefined;
  }

  /** Taken before a read; `set` keeps the value only if nothing changed since. */
  version(): number {
    return this.generation;
  }

  /** Keeps `value` (never past `notAfter`, epoch ms) unless a change came after `version`. */
  set(key: string, value: V, version: number, notAfter = Infinity): void {
    if (version !== this.generation) return;
    const ttl = this.notifications?.listening ? this.options.ttlMs : (this.options.unnotifiedTtlMs ?? 0);
    if (ttl <= 0) return;
    if (this.entries.size >= this.options.maxSize) this.entries.clear(); // a bound, not a policy: refilled at once
    this.entries.set(key, { value, until: Math.min(Date.now() + ttl, notAfter) });
  }

  delete(key: string): void {
    this.generation++;
    this.entries.delete(key);
  }

  deleteWhere(matches: (value: V) => boolean): void {
    this.generation++;
    for (const [key, entry] of this.entries) if (matches(entry.value)) this.entries.delete(key);
  }

  clear(): void {
    this.generation++;
    this.entries.clear();
  }
}
