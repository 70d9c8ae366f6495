import { apiAs, installLocation } from "./support/api";
import { startHarness, TEST_API_KEY, type Harness } from "./support/harness";
import { SOLO, SOLO_SLOT, SOLO_SLOTS } from "./support/sandbox-fixtures";
import { startServerProcess, until, type ServerProcess } from "./support/server-process";

/** HighLevel answers this slowly, so a create is surely still under way when the signal lands. */
const SLOW_MS = 3_000;
/** Each test starts a server process: on a loaded machine that alone can take half a minute. */
const PROCESS_TEST_MS = 120_000;

let h: Harness;
beforeAll(async () => {
  h = await startHarness({ sandbox: { companies: [SOLO] } });
  await installLocation(h, "loc-solo");
  h.sandbox.state.latencyMs = SLOW_MS;
});
afterAll(() => h.close());

/** The production server on the test database (DATABASE_URL set, as in production). */
const start = (script = "src/server.ts") =>
  startServerProcess(script, { ...h.childEnv, PORT: "0", LOG_LEVEL: "info", API_KEYS: TEST_API_KEY });

/** Sends a create to the server and resolves once HighLevel has it (the answer is then on its way back). */
async function createUnderWay(server: ServerProcess): Promise<{ answer: Promise<Response> }> {
  const before = h.sandbox.state.count("POST", "/calendars/events/block-slots");
  const response = fetch(`${server.url}${SOLO_SLOTS}`, {
    method: "POST",
    headers: { authorization: `Bearer ${TEST_API_KEY}`, "content-type": "application/json" },
    body: JSON.stringify(SOLO_SLOT),
  });
  await until(() => h.sandbox.state.count("POST", "/calendars/events/block-slots") > before);
  return { answer: response };
}

/** Which of `texts` the server logged, in the order their first lines came (to compare with `texts`). */
const loggedInOrder = (server: ServerProcess, texts: string[]) =>
  texts
    .map((text) => ({ text, at: server.lines.findIndex((l) => l.includes(text)) }))
    .filter(({ at }) => at >= 0)
    .sort((a, b) => a.at - b.at)
    .map(({ text }) => text);

describe("stopping the server", () => {
  it(
    "SIGTERM: stops taking connections, lets the request and the queued job under way finish, and exits 0",
    async () => {
      const server = await start();
      try {
        const creates = () => h.sandbox.state.count("POST", "/calendars/events/block-slots");
        const before = creates();
        const item = { locationId: "loc-solo", ...SOLO_SLOT, title: "Queued before the deploy" };
        const { body: job } = await apiAs(h)
          .post("/api/block-slots/bulk")
          .send({ items: [item] })
          .expect(202);
        const { answer } = await createUnderWay(server);
        await until(() => creates() >= before + 2); // the server's worker has sent the job's create too
        server.child.kill("SIGTERM");
        await server.waitForLog('"draining');
        await expect(fetch(`${server.url}/healthz`)).rejects.toThrow();

        const res = await answer;
        expect(res.status).toBe(201);
        expect(await res.json()).toMatchObject({ id: expect.any(String), title: SOLO_SLOT.title });
        expect(await server.exited).toBe(0);
        const expected = ['"draining', '"request completed"', '"stopped"'];
        expect(loggedInOrder(server, expected)).toEqual(expected);
        expect(await h.db.bulkItem.findMany({ where: { jobId: job.id }, select: { status: true } })).toEqual([
          { status: "succeeded" },
        ]);
        // Its last counts reached the dashboard before it exited: both blocks it made, by origin.
        const counted = await h.db.metricBucket.groupBy({
          by: ["label"],
          where: { series: "blocks_created" },
          _sum: { total: true },
        });
        expect(Object.fromEntries(counted.map((c) => [c.label, c._sum.total]))).toEqual({ api: 1, bulk: 1 });
      } finally {
        server.child.kill("SIGKILL");
      }
    },
    PROCESS_TEST_MS,
  );

  it.each(["reject", "throw"])(
    "a programmer error (%s) is logged through pino, then the same orderly stop, exit 1",
    async (order) => {
      const server = await start("test/support/crashing-server.ts");
      try {
        const { answer } = await createUnderWay(server);
        server.child.stdin.write(`${order}\n`);

        const fatal = JSON.parse(await server.waitForLog('"programmer error')) as Record<string, unknown>;
        expect(fatal).toMatchObject({
          level: 60,
          kind: order === "reject" ? "unhandledRejection" : "uncaughtException",
          err: { message: order === "reject" ? "a rejection nobody handled" : "an exception nobody caught" },
        });
        expect((await answer).status).toBe(201);
        expect(await server.exited).toBe(1);
        const expected = ['"programmer error', '"draining', '"request completed"', '"stopped"'];
        expect(loggedInOrder(server, expected)).toEqual(expected);
      } finally {
        server.child.kill("SIGKILL");
      }
    },
    PROCESS_TEST_MS,
  );
});
