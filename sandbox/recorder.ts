import type { NextFunction, Request, Response } from "express";
import type { RecordedRequest } from "./types";

/**
 * Every HighLevel-facing request is recorded (tests assert on what the app really sent).
 * The record lives in res.locals so later middleware can mark it invalid or annotate it.
 */
const KEY = "sandboxRecord";

export function currentRecord(res: Response): RecordedRequest | undefined {
  return res.locals[KEY] as RecordedRequest | undefined;
}

/** The request broke the OpenAPI files or a documented HighLevel rule: the app is at fault. */
export function markInvalid(res: Response, errors: string[]): void {
  const record = currentRecord(res);
  if (!record) return;
  record.valid = false;
  record.errors.push(...errors);
}

/** A well-formed request that the sandbox still refused or cut (state, fault, limit). */
export function addNote(res: Response, note: string): void {
  const record = currentRecord(res);
  if (record) record.note = record.note ? `${record.note}; ${note}` : note;
}

export function recorder(requests: RecordedRequest[]) {
  return (req: Request, res: Response, next: NextFunction): void => {
    const record: RecordedRequest = {
      method: req.method,
      path: req.path,
      query: { ...(req.query as Record<string, unknown>) },
      headers: { ...req.headers },
      body: undefined,
      valid: true,
      errors: [],
      at: new Date(),
    };
    res.locals[KEY] = record;
    requests.push(record);
    // 'finish' = answered; a dropped socket only emits 'close' and keeps status undefined.
    res.on("finish", () => {
      record.status = res.statusCode;
    });
    next();
  };
}

/** Runs after the body parsers: copies what they produced into the record. */
export function recordBody(req: Request, res: Response, next: NextFunction): void {
  const record = currentRecord(res);
  if (record) record.body = req.body as unknown;
  next();
}
