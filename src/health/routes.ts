import { z } from "zod";
import { databaseAnswers, type Db } from "../db/client";
import { operation, Reply, type Operation } from "../http/operation";

const health = z.object({ status: z.string() });

/** Probes for load balancers and orchestrators: quick, public, never logged (src/http/request-log.ts). */
export function healthOperations(db: Db): Operation[] {
  return [
    operation({
      id: "healthz",
      method: "get",
      path: "/healthz",
      tag: "Health",
      summary: "The process lives",
      auth: "none",
      response: {
        status: 200,
        description: "Alive.",
        body: { name: "Health", schema: health, example: { status: "ok" } },
      },
      errors: {},
      handle: () => Promise.resolve({ status: "ok" }),
    }),
    operation({
      id: "readyz",
      method: "get",
      path: "/readyz",
      tag: "Health",
      summary: "The process can serve: its database answers",
      auth: "none",
      response: { status: 200, description: "Ready.", body: { name: "Health", schema: health } },
      alsoResponds: [
        { status: 503, description: "The database does not answer.", body: { name: "Health", schema: health } },
      ],
      errors: {},
      async handle() {
        return (await databaseAnswers(db)) ? { status: "ready" } : new Reply(503, { status: "database unavailable" });
      },
    }),
  ];
}
