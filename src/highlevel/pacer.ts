import type { Logger } from "pino";
import { RateLimitHeld } from "./errors";
import { Leases, type LeaseState } from "./leases";
import { LATE_MS, type Grant, type RateBudget } from "./rate-budget";
import { rateNoteOf } from "./rate-headers";
/** Queries for grants out at once per process; the calls arriving meanwhile wait for the next one together. */
const MAX_INFLIGHT = 2;
/** How often leases run out are given back and idle owners forgotten. */
const SWEEP_MS = 1000;

export interface PacerOptions {
  /** A caller is not kept waiting longer than this: it gets a 429 with the wait instead (default 10 s). */
  maxWaitMs?: number;
  log?: Logger;
  /** Called once for each call that could not go at its first answer and waits for a later slot. */
  onWait?: () => void;
}

interface Waiter {
  resolve: () => void;
  reject: (err: unknown) => void;
  deadline: number;
  waited?: boolean;
}

/** One owner's calls waiting in this process, first come first served; its lease, if any. */
interface OwnerQueue extends LeaseState {
  waiters: Waiter[];
  /** A query for this owner is out, or a timer will ask again: nothing more to do until then. */
  busy: boolean;
  timer: NodeJS.Timeout | undefined;
  /** What the last answer said: nothing goes before this (epoch ms, this host's clock). */
  heldUntil: number;
  heldBy: "burst" | "daily";
}

/**
 * Keeps every owner (a location, or a company for its agency token) under HighLevel's limits
 * across all processes of the app: a call goes only once the shared budget in PostgreSQL
 * (`RateBudget`) granted it. The calls waiting in one process are asked for together, one round
 * trip for all the owners that have callers at that moment, so a busy process pays a fraction of
 * a round trip per call. An owner this process calls often gets a lease with its grants: as many
 * calls ahead as it made in the last few seconds, spent without a round trip until the lease runs
 * out, and given back unspent (DECISIONS #46). HighLevel's X-RateLimit-* headers tighten the budget
 * (`observe`).
 */
export class RateLimitPacer {
  private readonly owners = new Map<string, OwnerQueue>();
  /** Owners with callers and no query or timer out for them. */
  private readonly ready = new Set<string>();
  private inflight = 0;
  private scheduled = false;
  private readonly leases: Leases;
  private sweeper: NodeJS.Timeout | undefined;
  private readonly maxWaitMs: number;
  private readonly log: Logger | undefined;
  private readonly onWait: (() => void) | undefined;

  constructor(
    private readonly budget: RateBudget,
    options: PacerOptions = {},
  ) {
    this.maxWaitMs = options.maxWaitMs ?? 10_000;
    this.log = options.log;
    this.onWait = options.onWait;
    this.leases = new Leases(budget, options.log);
  }

  /**
   * Resolves when a call for `owner` may be sent now. Throws `RateLimitHeld` (429 `rate_limited`,
   * with the wait) rather than wait longer than `maxWaitMs`.
   */
  acquire(owner: string, options: { maxWaitMs?: number } = {}): Promise<void> {
    const q = this.queue(owner);
    const now = Date.now();
    const maxWaitMs = options.maxWaitMs ?? this.maxWaitMs;
    if (q.heldUntil - now > maxWaitMs) return Promise.reject(this.held(owner, q.heldBy, q.heldUntil, now));
    if (q.waiters.length === 0 && this.spend(q, now)) return Promise.resolve();
    return new Promise((resolve, reject) => {
      q.waiters.push({ resolve, reject, deadline: now + maxWaitMs });
      this.wake(owner, q);
    });
  }

  /**
   * Reads HighLevel's answer headers (and status) for `owner` (`rateNoteOf`). None left in the
   * burst window, or a 429: every process holds the owner for HighLevel's interval, unless (no
   * 429) the app's own calls account for the zero: then the shared budget already keeps the next
   * call back as long as needed, and a whole interval from this answer would only add the time the
   * last hundred took to send (DECISIONS #47). None left today: held for an hour, then one call
   * tries again. Resolves once the shared budget has the note (callers need not wait).
   */
  observe(owner: string, headers: Record<string, unknown>, status?: number): Promise<void> {
    const note = rateNoteOf(headers, status, this.budget.limits);
    if (!note) return Promise.resolve();
    const q = this.queue(owner);
    if (note.unlessOwn) note.unlessOwn.sentAhead = this.leases.sentAheadOf(q, Date.now());
    const now = Date.now();
    if (note.dailyHoldMs) this.hold(owner, q, now + note.dailyHoldMs, "daily");
    // Held here at once, in case the zero is not the app's own: nothing goes while PostgreSQL counts.
    const before = { until: q.heldUntil, by: q.heldBy };
    const pausedUntil = note.pauseMs ? now + note.pauseMs : 0;
    if (pausedUntil) this.hold(owner, q, pausedUntil, "burst");
    return this.budget.note(owner, note).then(
      (paused) => {
        if (!paused && note.unlessOwn && q.heldUntil === pausedUntil) this.release(owner, q, before);
      },
      (err: unknown) => this.log?.warn({ err, owner }, "rate-limit note lost"),
    );
  }

  /** Lifts this process's own hold of `owner` back to what it was, and lets its callers ask again. */
  private release(owner: string, q: OwnerQueue, to: { until: number; by: "burst" | "daily" }): void {
    q.heldUntil = to.until;
    q.heldBy = to.by;
    if (q.timer) {
      clearTimeout(q.timer);
      q.timer = undefined;
    }
    this.wake(owner, q);
  }

  private queue(owner: string): OwnerQueue {
    let q = this.owners.get(owner);
    if (!q) {
      q = {
        waiters: [],
        busy: false,
        timer: undefined,
        heldUntil: 0,
        heldBy: "burst",
        lease: undefined,
        recent: [],
        sentAhead: new Map(),
      };
      this.owners.set(owner, q);
      this.sweeper ??= setInterval(() => this.sweep(), SWEEP_MS).unref();
    }
    return q;
  }

  private hold(owner: string, q: OwnerQueue, until: number, by: "burst" | "daily"): void {
    if (until <= q.heldUntil) return;
    q.heldUntil = until;
    q.heldBy = by;
    // HighLevel said stop: what is leased would only wait; others may need it when the hold ends.
    this.leases.giveBack(owner, q);
  }

  /** A call from the owner's lease, unless HighLevel said stop. */
  private spend(q: OwnerQueue, now: number): boolean {
    return q.heldUntil <= now && this.leases.spend(q, now);
  }

  /** Gives back leases run out, and forgets owners with nothing waiting, leased or remembered. */
  private sweep(): void {
    const now = Date.now();
    for (const [owner, q] of this.owners) {
      if (this.leases.over(q, now)) this.leases.giveBack(owner, q);
      if (this.idle(q, now)) this.owners.delete(owner);
    }
    if (this.owners.size === 0) {
      clearInterval(this.sweeper);
      this.sweeper = undefined;
    }
  }

  private idle(q: OwnerQueue, now: number): boolean {
    return q.waiters.length === 0 && !q.busy && !q.timer && q.heldUntil <= now && this.leases.forgettable(q, now);
  }

  /** Gives back every lease (a process stopping): the other processes can spend those calls at once. */
  async close(): Promise<void> {
    clearInterval(this.sweeper);
    this.sweeper = undefined;
    await this.leases.close(this.owners);
  }

  private held(owner: string, by: "burst" | "daily", until: number, now: number): RateLimitHeld {
    return new RateLimitHeld(owner, by, new Date(Math.max(until, now + 1000)));
  }

  private wake(owner: string, q: OwnerQueue): void {
    if (q.busy || q.timer || q.waiters.length === 0) return;
    this.ready.add(owner);
    this.schedule();
  }

  private schedule(): void {
    if (this.scheduled || this.inflight >= MAX_INFLIGHT || this.ready.size === 0) return;
    this.scheduled = true;
    // After this turn of the event loop: the calls arriving in it share one query.
    setImmediate(() => {
      this.scheduled = false;
      void this.flush();
    });
  }

  private async flush(): Promise<void> {
    const batch = new Map<string, { calls: number; extra: number }>();
    const now = Date.now();
    for (const owner of this.ready) {
      const q = this.owners.get(owner);
      if (!q || q.busy || q.waiters.length === 0) continue;
      q.busy = true;
      // Callers wait, so the lease is spent, run out or held: what is left of it goes back.
      this.leases.giveBack(owner, q);
      batch.set(owner, { calls: q.waiters.length, extra: this.leases.ask(q, now) });
    }
    this.ready.clear();
    if (batch.size === 0) return;
    this.inflight += 1;
    let grants: Map<string, Grant> | undefined;
    let late = false;
    let made = { madeAt: 0, atMs: 0 };
    let failure: unknown;
    try {
      const answer = await this.budget.take(batch);
      grants = answer.grants;
      made = answer;
      // Late: the process stalled after PostgreSQL granted; the grants are spent but not used,
      // or calls granted over a whole window could go out together.
      late = answer.ageMs > LATE_MS;
    } catch (err) {
      failure = err;
    } finally {
      this.inflight -= 1;
    }
    for (const owner of batch.keys()) {
      const q = this.owners.get(owner)!;
      q.busy = false;
      const grant = grants?.get(owner);
      if (grant) this.settle(owner, q, grant, batch.get(owner)!.calls, late, made);
      // The database is down: the callers get its error (503), not a wait.
      else for (const w of q.waiters.splice(0)) w.reject(failure ?? new Error(`no rate-limit answer for ${owner}`));
      this.wake(owner, q);
    }
    // Owners whose callers arrived while the queries were out.
    this.schedule();
  }

  /**
   * Lets the granted callers go, refuses those who would wait too long, and asks again when a
   * slot frees. `asked`: the callers the answer is for; later arrivals are asked for next.
   */
  private settle(
    owner: string,
    q: OwnerQueue,
    grant: Grant,
    asked: number,
    late: boolean,
    made: { madeAt: number; atMs: number },
  ): void {
    const now = Date.now();
    if (grant.heldBy) this.hold(owner, q, now + grant.heldMs, grant.heldBy);
    const lease = this.leases.granted(grant.leased, made);
    // Late: ask again at once (the caller `wake`s the owner); the spent grants only cost budget,
    // and the lease goes back.
    if (late && (grant.granted > 0 || lease)) {
      if (lease) this.leases.giveBackLease(owner, lease);
      return;
    }
    for (const w of q.waiters.splice(0, grant.granted)) {
      this.leases.went(q, now);
      w.resolve();
    }
    if (lease) {
      q.lease = lease;
      // Callers who came while the question was out go on the lease.
      while (q.waiters.length > 0 && this.spend(q, now)) q.waiters.shift()!.resolve();
    }
    const full = asked > grant.granted;
    if (q.waiters.length === 0 || (!full && q.heldUntil <= now)) return;
    const { perWindow, windowMs } = this.budget.limits;
    const last = grant.waitsMs[grant.waitsMs.length - 1] ?? 0;
    // When each waiting caller could go, as far as this answer knows (other processes may take
    // slots first); a caller who came after the question is counted behind those it was for.
    const held = q.heldUntil > now;
    const earliest = (i: number) =>
      held
        ? q.heldUntil
        : now + (grant.waitsMs[i] ?? last + windowMs * Math.ceil((i - grant.waitsMs.length + 1) / perWindow));
    // The callers this answer was for; those who came after it are not refused on that guess (it
    // can be a whole window too late: queued work put back for it lost a window), but asked for.
    const judged = held ? q.waiters.length : asked - grant.granted;
    const unjudged = q.waiters.length > judged;
    q.waiters = q.waiters.filter((w, i) => {
      if (i >= judged) return true;
      const at = earliest(i);
      if (at > w.deadline) {
        w.reject(this.held(owner, held ? q.heldBy : "burst", at, now));
        return false;
      }
      if (!w.waited) {
        w.waited = true;
        this.onWait?.();
      }
      return true;
    });
    // Nothing to wait for, or callers to ask for at once (the caller `wake`s the owner): one more
    // round trip gives every caller its own answer, the first ones the same wait as this one.
    if (q.waiters.length === 0 || unjudged) return;
    // A little jitter, so processes waiting for the same slot do not all ask at the same instant.
    const delay = Math.max(0, earliest(0) - now) + Math.random() * 20;
    q.timer = setTimeout(() => {
      q.timer = undefined;
      this.wake(owner, q);
    }, delay);
    // A caller waiting is no reason to keep a process alive that is otherwise done.
    q.timer.unref();
  }
}
