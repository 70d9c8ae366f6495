import os from "node:os";
import { generateKey } from "../src/tokens/crypto";
import { createTestDatabase } from "./support/postgres";
import { spawnTs, waitForLine } from "./support/processes";

/** This machine's address on its network: what another machine would connect to. */
const networkAddress = Object.values(os.networkInterfaces())
  .flat()
  .find((a) => a?.family === "IPv4" && !a.internal)?.address;

let database: Awaited<ReturnType<typeof createTestDatabase>>;
beforeAll(async () => {
  database = await createTestDatabase();
});
afterAll(() => database.drop());

/** `npm start` on the test database with `env`; resolves with its port once it listens. */
async function serve(env: Record<string, string>, run: (port: string) => Promise<void>) {
  const child = spawnTs("src/server.ts", [], {
    PATH: process.env.PATH ?? "",
    DATABASE_URL: database.url,
    HIGHLEVEL_CLIENT_ID: "client-id",
    HIGHLEVEL_CLIENT_SECRET: "client-secret",
    TOKEN_ENCRYPTION_KEY: generateKey(),
    WORKER_CONCURRENCY: "0",
    PORT: "0",
    LOG_LEVEL: "info",
    ...env,
  });
  try {
    const line = await waitForLine(child, (l) => l.includes('"listening"'));
    await run(new URL((JSON.parse(line) as { url: string }).url).port);
  } finally {
    const exited = new Promise((resolve) => child.once("exit", resolve));
    child.kill("SIGTERM");
    await exited;
  }
}

const reachable = (host: string, port: string) =>
  fetch(`http://${host}:${port}/healthz`, { signal: AbortSignal.timeout(5_000) }).then(
    (res) => res.status,
    () => "unreachable",
  );

describe("the address the server listens on", () => {
  it("HOST=127.0.0.1 (the demo's choice) is reachable from this machine only", async () => {
    expect(networkAddress).toBeDefined(); // a machine with no network cannot show the difference
    await serve({ HOST: "127.0.0.1" }, async (port) => {
      expect(await reachable("127.0.0.1", port)).toBe(200);
      expect(await reachable(networkAddress!, port)).toBe("unreachable");
    });
  }, 60_000);

  it("npm start listens on every interface (0.0.0.0) unless HOST says otherwise", async () => {
    await serve({}, async (port) => {
      expect(await reachable(networkAddress!, port)).toBe(200);
    });
  }, 60_000);
});
