import type { Logger } from "pino";
import { LATE_MS, leaseMs, type Leftover, type RateBudget } from "./rate-budget";

/** A process leases at most this many calls ahead for one owner. */
const MAX_LEASE = 50;

/** Calls granted ahead to this process for one owner, to spend without asking PostgreSQL. */
export interface Lease {
  left: number;
  /** None is spent from this moment (epoch ms, this host's clock). */
  until: number;
  /** What PostgreSQL counted them as: what is left is given back under it. */
  stampMs: number;
}

/** One owner's lease and recent calls in this process (kept on the pacer's queue for the owner). */
export interface LeaseState {
  lease: Lease | undefined;
  /** When this process's latest calls for the owner went (at most MAX_LEASE, oldest first): what a lease asks for. */
  recent: number[];
  /** Leased calls this process sent, by the stamp PostgreSQL counts them under (later than they went). */
  sentAhead: Map<number, number>;
}

/**
 * This process's leases (DECISIONS #46): an owner called often is leased as many calls ahead as
 * went in the last few seconds, spent without a round trip until the lease runs out; what is left
 * goes back to the shared budget, in one query for all owners.
 */
export class Leases {
  /** How long a lease can be spent: its later stamp, plus the late second every grant has. */
  readonly spanMs: number;
  private leftovers: Leftover[] = [];
  private refunding: Promise<void> | undefined;

  constructor(
    private readonly budget: RateBudget,
    private readonly log?: Logger,
  ) {
    this.spanMs = leaseMs(budget.limits) + LATE_MS;
  }

  /** Takes one call from the owner's lease, if it has one to spend now. */
  spend(s: LeaseState, now: number): boolean {
    const lease = s.lease;
    if (!lease || lease.left === 0 || now >= lease.until) return false;
    lease.left -= 1;
    // A new stamp is a new lease: older leases' entries go then, so a busy owner's map stays small.
    if (!s.sentAhead.has(lease.stampMs)) this.forgetPast(s, now);
    s.sentAhead.set(lease.stampMs, (s.sentAhead.get(lease.stampMs) ?? 0) + 1);
    this.went(s, now);
    return true;
  }

  /**
   * Leased calls of this process already sent whose stamps may still lie ahead: HighLevel counts
   * them now, PostgreSQL only from their stamp (`highlevel_rate_note` counts those not yet reached).
   */
  sentAheadOf(s: LeaseState, now: number): { stamps: number[]; counts: number[] } {
    this.forgetPast(s, now);
    return { stamps: [...s.sentAhead.keys()], counts: [...s.sentAhead.values()] };
  }

  /** Stamps older than a lease's span are reached: PostgreSQL counts those calls by itself. */
  private forgetPast(s: LeaseState, now: number): void {
    for (const stamp of s.sentAhead.keys()) if (stamp < now - this.spanMs) s.sentAhead.delete(stamp);
  }

  /** A call for the owner went now (leased or granted). */
  went(s: LeaseState, now: number): void {
    s.recent.push(now);
    if (s.recent.length > MAX_LEASE) s.recent.shift();
  }

  /** Calls to lease with the next grant: as many as went in the last lease span (none for a first call). */
  ask(s: LeaseState, now: number): number {
    const since = now - this.spanMs;
    let n = 0;
    for (let i = s.recent.length - 1; i >= 0 && s.recent[i]! > since; i--) n++;
    return n;
  }

  /** The lease that came with a grant PostgreSQL made at `made` (see `RateBudget.take`), if any. */
  granted(leased: number, made: { madeAt: number; atMs: number }): Lease | undefined {
    if (leased <= 0) return undefined;
    return {
      left: leased,
      // Spent only while HighLevel's window of each call stays inside what PostgreSQL counts for it.
      until: made.madeAt + this.spanMs,
      stampMs: made.atMs + leaseMs(this.budget.limits),
    };
  }

  /** The lease has nothing left to spend, now or ever. */
  over(s: LeaseState, now: number): boolean {
    return !!s.lease && (s.lease.left === 0 || now >= s.lease.until);
  }

  /** Nothing leased, and no call recent enough to size the next lease: the owner can be forgotten. */
  forgettable(s: LeaseState, now: number): boolean {
    return !s.lease && (s.recent.at(-1) ?? 0) <= now - this.spanMs;
  }

  /** What is left of the owner's lease goes back to the shared budget (soon, with others'). */
  giveBack(owner: string, s: LeaseState): void {
    const lease = s.lease;
    s.lease = undefined;
    if (lease) this.giveBackLease(owner, lease);
  }

  giveBackLease(owner: string, lease: Lease): void {
    if (lease.left === 0) return;
    this.leftovers.push({ owner, stampMs: lease.stampMs, count: lease.left });
    if (this.leftovers.length > 1) return; // a refund is already scheduled
    setImmediate(() => void this.refund());
  }

  /** Gives back every lease of `owners` at once, and waits for it (a process stopping). */
  async close(owners: Iterable<[string, LeaseState]>): Promise<void> {
    for (const [owner, s] of owners) this.giveBack(owner, s);
    await this.refund();
    await this.refunding;
  }

  private async refund(): Promise<void> {
    const batch = this.leftovers.splice(0);
    if (batch.length === 0) return;
    const done = this.budget
      .refund(batch)
      // Lost, the leased calls only count until their window passes: budget idle for a few seconds.
      .catch((err: unknown) => this.log?.warn({ err }, "leased HighLevel calls not given back"));
    this.refunding = done;
    await done;
  }
}
