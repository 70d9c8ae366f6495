import type { Request, RequestHandler, Response } from "express";
import type { z } from "zod";
import type { Principal } from "../auth/api-keys";
import type { ErrorCode } from "../errors";

export type Method = "get" | "post" | "put" | "delete";

/** A schema with the name it has in the OpenAPI document's components. */
export interface Named<T = unknown> {
  name: string;
  schema: z.ZodType<T>;
  /** Shown in the docs; a test checks it fits the schema. */
  example?: unknown;
}

export interface SuccessResponse<R = unknown> {
  status: number;
  description: string;
  /** Absent: no body (204). */
  body?: Named<R>;
  /** Response headers worth documenting (e.g. `Location`). */
  headers?: Record<string, string>;
}

export interface OperationInput<P, Q, B> {
  params: P;
  query: Q;
  body: B;
  /** The API key's principal (operations with `auth: "apiKey"`). */
  principal: Principal;
  /** An earlier attempt with this Idempotency-Key may have had an effect (idempotent operations). */
  resumed: boolean;
  /** The Idempotency-Key, digested with the API key (idempotent operations sent with one): see `requestKeyOf`. */
  requestKey?: string;
  req: Request;
  res: Response;
}

/** A non-default status (e.g. 200 for "already there" where a create answers 201). */
export class Reply<R = unknown> {
  constructor(
    readonly status: number,
    readonly body: R,
  ) {}
}

/**
 * One operation of the API, owned by its capability's routes file: how it is called, what it
 * accepts (zod schemas that both validate the request and describe it), what it answers, which
 * error codes it may answer with, and the handler. `mount()` registers it; the OpenAPI document
 * and the docs page are assembled from the same objects, so they cannot drift apart.
 */
export interface Operation<P = unknown, Q = unknown, B = unknown, R = unknown> {
  /** OpenAPI operationId. */
  id: string;
  method: Method;
  /** Express syntax (`/api/locations/:locationId/block-slots`); OpenAPI's `{locationId}` is derived. */
  path: string;
  tag: string;
  summary: string;
  description?: string;
  /** `apiKey`: `Authorization: Bearer <key>`; `none`: public, or authenticated by the handler (webhook signatures). */
  auth: "apiKey" | "none";
  params?: z.ZodType<P>;
  query?: z.ZodType<Q>;
  body?: Named<B> & {
    /** Documented content types besides JSON (e.g. `text/csv`). */
    alsoAccepts?: Record<string, string>;
    /** The handler reads and checks the body itself (e.g. JSON or CSV). */
    handlerValidates?: boolean;
  };
  /** Body readers for this operation; default: JSON up to 100 kB when there is a body. */
  readers?: RequestHandler[];
  /** Sends `Idempotency-Key` handling around the handler: a retry replays the first answer. */
  idempotent?: boolean;
  /** The handler's answer must fit this schema: it is what the API documents. */
  response: SuccessResponse<R>;
  /** Other successful answers (e.g. 200 "already exists" beside 201 "created"). */
  alsoResponds?: SuccessResponse[];
  /** The error codes this operation may answer with, each with what it means here. */
  errors: Partial<Record<ErrorCode, string>>;
  handle(input: OperationInput<P, Q, B>): Promise<NoInfer<R> | Reply<NoInfer<R>>>;
}

/** Keeps each operation's types checked where it is written, and its parts typed in `handle`. */
export function operation<P = Record<string, never>, Q = Record<string, never>, B = undefined, R = unknown>(
  op: Operation<P, Q, B, R>,
): Operation<P, Q, B, R> {
  return op;
}
