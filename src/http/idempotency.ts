import crypto from "node:crypto";
import type { Request, Response } from "express";
import type { Db } from "../db/client";
import { deleteBatch } from "../db/purge";
import { Prisma } from "../generated/prisma/client";
import { AppError } from "../errors";
import { toProblem } from "./errors";
import type { Problem } from "./problem";

/** An answer as it is sent, and as it is replayed. */
export interface Answer {
  status: number;
  body: unknown;
}

/** How long one attempt may hold a key before another request may take over (it is presumed dead). */
export const LEASE_MS = 120_000;
/** Keys are kept at least 24 h (README, "Use the API"); an hour more so a retry at 23:59 still finds its answer. */
export const KEEP_MS = 25 * 3600_000;

const HEADER = "Idempotency-Key";

/** Answers are plain JSON already (they were about to be sent); this only tells Prisma so. */
const asJson = (body: unknown) => (body ?? Prisma.JsonNull) as Prisma.InputJsonValue | typeof Prisma.JsonNull;

/** Refusals that may change (a reinstall, a wait): not stored, so a retry with the same key does the work. */
const PASSING = new Set([
  "location_not_installed",
  "reauthorization_required",
  "location_inactive",
  "location_connecting",
  "rate_limited",
  "idempotency_conflict",
]);
/** An answer worth replaying: a success, or a refusal that would be the same next time. */
const isFinal = (problem: Problem) => problem.status < 500 && !PASSING.has(problem.code);

function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(",")}]`;
  if (value && typeof value === "object") {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : 1));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(",")}}`;
  }
  return JSON.stringify(value);
}

/** Same route and same (parsed) body, whatever the key order or whitespace: the same request. */
export const fingerprint = (req: Request, body: unknown) =>
  crypto
    .createHash("sha256")
    .update(`${req.method} ${req.baseUrl}${req.path}\n${canonicalJson(body)}`)
    .digest("hex");

/** The `Idempotency-Key` header, checked: 1–255 visible ASCII characters. */
export function idempotencyKeyOf(req: Request): string | undefined {
  const value = req.headers["idempotency-key"];
  if (value === undefined) return undefined;
  if (typeof value !== "string" || !/^[\x21-\x7e]{1,255}$/.test(value)) {
    throw new AppError("invalid_request", `The ${HEADER} header is invalid.`, {
      errors: [{ path: HEADER, message: "must be 1 to 255 visible ASCII characters" }],
    });
  }
  return value;
}

/**
 * What a job or plan made under an Idempotency-Key stores to be found again (the key digested with
 * its API key: keys are the caller's, unique per key only): a retry after a crash finds it.
 */
export const requestKeyOf = (owner: string, key: string): string =>
  crypto.createHash("sha256").update(`${owner}\n${key}`).digest("hex");

const inProgress = () =>
  new AppError("idempotency_conflict", `A request with this ${HEADER} is still being answered; retry in a moment.`, {
    retryAfterSeconds: 1,
  });

/**
 * `Idempotency-Key` for creates: the first request with a key does the work and its answer is
 * stored; the same key and body later get that answer again without a second effect; the same
 * key with another body is refused. Rows live in PostgreSQL so every app process agrees.
 */
export class IdempotencyStore {
  constructor(private readonly db: Db) {}

  /**
   * `exec(resumed)`: `resumed` is true when an earlier attempt with this key ended without a
   * final answer (crash, 5xx, lost response): whatever it did may have happened, so look first.
   */
  async run(
    owner: string,
    key: string,
    requestHash: string,
    exec: (resumed: boolean) => Promise<Answer>,
  ): Promise<Answer & { replayed: boolean }> {
    const where = { owner_key: { owner, key } };
    const lockedUntil = new Date(Date.now() + LEASE_MS);
    const inserted = await this.db.$executeRaw`
      INSERT INTO idempotency_keys (owner, key, request_hash, locked_until)
      VALUES (${owner}, ${key}, ${requestHash}, ${lockedUntil}) ON CONFLICT DO NOTHING`;
    let resumed = false;
    if (inserted === 0) {
      const row = await this.db.idempotencyRecord.findUnique({ where });
      if (!row) return this.run(owner, key, requestHash, exec); // purged in between: start afresh
      if (row.requestHash !== requestHash) {
        throw new AppError(
          "idempotency_conflict",
          `This ${HEADER} was already used with a different request. Use a new key for a new request.`,
        );
      }
      if (row.status !== null) return { status: row.status, body: row.body, replayed: true };
      if (row.lockedUntil && row.lockedUntil.getTime() > Date.now()) throw inProgress();
      // Take over the dead attempt; only one of several racing retries wins.
      const { count } = await this.db.idempotencyRecord.updateMany({
        where: { owner, key, status: null, lockedUntil: row.lockedUntil },
        data: { lockedUntil },
      });
      if (count === 0) throw inProgress();
      resumed = true;
    }

    let answer: Answer;
    try {
      answer = await exec(resumed);
    } catch (err) {
      const problem = toProblem(err);
      await this.db.idempotencyRecord.update({
        where,
        data: isFinal(problem)
          ? { status: problem.status, body: asJson(problem.toJSON()), lockedUntil: null }
          : { lockedUntil: new Date() }, // released: a retry with this key resumes at once
      });
      throw err;
    }
    await this.db.idempotencyRecord.update({
      where,
      data: {
        status: answer.status,
        body: asJson(answer.body),
        lockedUntil: null,
      },
    });
    return { ...answer, replayed: false };
  }

  /** Housekeeping: drops up to `limit` keys older than KEEP_MS; returns how many. */
  purge(limit: number, now = Date.now()): Promise<number> {
    return deleteBatch(this.db, "idempotency_keys", Prisma.sql`created_at < ${new Date(now - KEEP_MS)}`, limit);
  }
}

/**
 * Runs `exec` under the request's Idempotency-Key when it has one, and sends the answer —
 * replays marked `Idempotent-Replayed: true`.
 */
export async function answerIdempotently(
  req: Request,
  res: Response,
  store: IdempotencyStore,
  owner: string,
  body: unknown,
  exec: (resumed: boolean) => Promise<Answer>,
): Promise<void> {
  const key = idempotencyKeyOf(req);
  const answer = key
    ? await store.run(owner, key, fingerprint(req, body), exec)
    : { ...(await exec(false)), replayed: false };
  if (answer.replayed) res.setHeader("Idempotent-Replayed", "true");
  if (answer.status >= 400) {
    res.status(answer.status).type("application/problem+json").send(JSON.stringify(answer.body));
    return;
  }
  res.status(answer.status).json(answer.body);
}
