import type { NextFunction, Request, Response } from "express";
import { addNote } from "./recorder";

export interface FaultMatch {
  method?: string;
  /** A string matches that exact path or anything below it ("/a" matches "/a" and "/a/b"). */
  path: string | RegExp;
}

export type FaultReply =
  | { status: number; body?: unknown; headers?: Record<string, string> }
  /** 'before': cut the connection without doing the work; 'after': do it, then cut. */
  | { drop: "before" | "after" };

interface Fault {
  match: FaultMatch;
  reply: FaultReply;
  remaining: number;
}

/** Fault injection: the next N matching requests get `reply` instead of a normal answer. */
export class FaultRegistry {
  private faults: Fault[] = [];

  add(match: FaultMatch, reply: FaultReply, times = 1): void {
    this.faults.push({ match, reply, remaining: times });
  }

  clear(): void {
    this.faults = [];
  }

  /** The first armed fault for this request, consuming one use. */
  take(method: string, path: string): FaultReply | undefined {
    const fault = this.faults.find((f) => f.remaining > 0 && matches(f.match, method, path));
    if (!fault) return undefined;
    fault.remaining -= 1;
    this.faults = this.faults.filter((f) => f.remaining > 0);
    return fault.reply;
  }
}

function matches(match: FaultMatch, method: string, path: string): boolean {
  if (match.method && match.method.toUpperCase() !== method.toUpperCase()) return false;
  if (match.path instanceof RegExp) return match.path.test(path);
  return path === match.path || path.startsWith(match.path.endsWith("/") ? match.path : `${match.path}/`);
}

export function faultMiddleware(faults: FaultRegistry) {
  return (req: Request, res: Response, next: NextFunction): void => {
    const reply = faults.take(req.method, req.path);
    if (!reply) return next();
    if ("drop" in reply) {
      if (reply.drop === "before") {
        addNote(res, "fault: connection dropped before doing the work");
        req.socket.destroy();
        return;
      }
      // Let the route do its work, then cut the socket instead of sending the answer:
      // the client cannot tell whether the write happened (the case retries must survive).
      addNote(res, "fault: work done, connection dropped before answering");
      const end = (): Response => {
        addNote(res, `the route had answered HTTP ${res.statusCode}`);
        req.socket.destroy();
        return res;
      };
      res.end = end as Response["end"];
      return next();
    }
    addNote(res, `fault: injected HTTP ${reply.status}`);
    if (reply.headers) res.set(reply.headers);
    res.status(reply.status);
    if (reply.body === undefined) res.end();
    else if (typeof reply.body === "string") res.send(reply.body);
    else res.json(reply.body);
  };
}
