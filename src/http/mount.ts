import express, { type Request, type Router } from "express";
import type { ApiKeyService } from "../auth/api-keys";
import { requireApiKey } from "../auth/middleware";
import type { AuthThrottle } from "../auth/throttle";
import { parseInput } from "../validation";
import { answerIdempotently, idempotencyKeyOf, requestKeyOf, type IdempotencyStore } from "./idempotency";
import { Reply, type Operation, type OperationInput } from "./operation";

export interface MountDeps {
  apiKeys: ApiKeyService;
  authThrottle: AuthThrottle;
  idempotency: IdempotencyStore;
}

const json = express.json({ limit: "100kb" });

/**
 * Registers operations on `router`: the API key (where asked), the body reader, validation of
 * path, query and body (400 naming each bad field, before the handler runs), Idempotency-Key
 * handling, and the answer with the operation's success status.
 */
export function mount(router: Router, operations: readonly Operation[], deps: MountDeps): void {
  const authenticate = requireApiKey(deps.apiKeys, deps.authThrottle);
  for (const op of operations) {
    const readers = op.readers ?? (op.body ? [json] : []);
    const auth = op.auth === "apiKey" ? [authenticate] : [];
    router[op.method](op.path, ...auth, ...readers, async (req, res) => {
      const input: OperationInput<unknown, unknown, unknown> = {
        params: op.params ? parseInput(op.params, req.params, "path") : {},
        query: op.query ? parseInput(op.query, req.query, "query") : {},
        body: op.body && !op.body.handlerValidates ? parseInput(op.body.schema, req.body, "body") : req.body,
        principal: res.locals.principal,
        resumed: false,
        ...(op.idempotent && res.locals.principal ? requestKeyInput(req, res.locals.principal.id as string) : {}),
        req,
        res,
      };
      const run = async (resumed: boolean) => {
        const result = await op.handle({ ...input, resumed });
        return result instanceof Reply
          ? { status: result.status, body: result.body }
          : { status: op.response.status, body: result };
      };
      if (op.idempotent) {
        await answerIdempotently(req, res, deps.idempotency, input.principal.id, input.body, run);
        return;
      }
      const { status, body } = await run(false);
      if (body === undefined) res.status(status).end();
      else res.status(status).json(body);
    });
  }
}

/** The request's key, for an operation that stores it with what it makes (a job, a plan). */
function requestKeyInput(req: Request, owner: string): { requestKey?: string } {
  const key = idempotencyKeyOf(req);
  return key ? { requestKey: requestKeyOf(owner, key) } : {};
}
