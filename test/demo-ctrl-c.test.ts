import { spawn, type ChildProcess } from "node:child_process";
import fs from "node:fs";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { freePort } from "../src/util/net";

/**
 * A real Ctrl-C in the demo's terminal. The terminal sends SIGINT to its whole foreground process
 * group — npm, tsx, the app and the embedded PostgreSQL alike — so the database stops at the same
 * moment as the app begins its own stop. `script` gives an interactive shell a pseudo-terminal,
 * and the demo runs as that shell's foreground job; writing ^C to it is what a keyboard does. The
 * shell outlives the demo, as a terminal window does: a terminal that closed would end a hung demo
 * by hang-up and hide the hang.
 */
const ROOT = path.resolve(__dirname, "..");
/** What the README promises: the demo is gone this long after Ctrl-C. */
const STOPS_WITHIN_MS = 5_000;

jest.setTimeout(180_000);

let dataDir: string;
let terminal: ChildProcess | undefined;
beforeAll(() => {
  dataDir = fs.mkdtempSync(path.join(os.tmpdir(), "demo-ctrl-c-"));
  // PostgreSQL may run as another user (when the tests run as root): it must reach its data.
  fs.chmodSync(dataDir, 0o755);
});
afterAll(() => {
  if (terminal?.exitCode === null) terminal.kill("SIGKILL");
  for (const pid of processesOfThisDemo()) process.kill(pid, "SIGKILL");
  fs.rmSync(dataDir, { recursive: true, force: true });
});

/** Every process started for this demo: each inherits DEMO_DATA_DIR, the app and PostgreSQL alike. */
function processesOfThisDemo(): number[] {
  const mark = `DEMO_DATA_DIR=${dataDir}\0`;
  const found: number[] = [];
  for (const entry of fs.readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      if (`${fs.readFileSync(`/proc/${entry}/environ`, "latin1")}\0`.includes(mark)) found.push(Number(entry));
    } catch {
      // gone meanwhile, or another user's
    }
  }
  return found;
}

const commandOf = (pid: number) => fs.readFileSync(`/proc/${pid}/cmdline`, "latin1").replaceAll("\0", " ");

function listening(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect(port, "127.0.0.1");
    socket.once("connect", () => {
      socket.destroy();
      resolve(true);
    });
    socket.once("error", () => resolve(false));
  });
}

let port = 0;
let sandboxPort = 0;
let screen = "";

/** Types `npm run demo` at the terminal's prompt, once; resolves when the demo says it is running. */
async function demoRunning(): Promise<void> {
  if (terminal) return;
  [port, sandboxPort] = [await freePort(), await freePort()];
  terminal = spawn("script", ["-qfc", "bash --norc --noprofile -i", "/dev/null"], { cwd: ROOT });
  terminal.stdout?.on("data", (chunk: Buffer) => (screen += chunk.toString()));
  // Typed at the prompt, so only the demo's own processes carry DEMO_DATA_DIR, not the shell.
  terminal.stdin?.write(`PORT=${port} SANDBOX_PORT=${sandboxPort} DEMO_DATA_DIR='${dataDir}' npm run demo\n`);
  while (!screen.includes("Press Ctrl-C to stop")) {
    if (terminal.exitCode !== null) throw new Error(`the demo did not start:\n${screen.slice(-3000)}`);
    await sleep(100);
  }
}

it("installs a whole agency through the demo's HighLevel, which names it by its INSTALL webhook", async () => {
  await demoRunning();
  const app = `http://127.0.0.1:${port}`;
  const key = /API key \(kept in [^)]*\): (\S+)/.exec(screen)![1]!;
  // The marketplace's consent page, as the README's first step opens it.
  const toConsent = await fetch(`${app}/oauth/install`, { redirect: "manual" });
  const consentUrl = new URL(toConsent.headers.get("location")!, app);
  const consent = await (await fetch(consentUrl)).text();
  const action = new URL(
    /<form method="post" action="([^"]+)"/.exec(consent)![1]!.replaceAll("&amp;", "&"),
    consentUrl,
  );
  const agency = /value="(company:[^"]+)"/.exec(consent)![1]!;
  const allowed = await fetch(action, {
    method: "POST",
    body: new URLSearchParams({ target: agency, decision: "allow" }),
    redirect: "manual",
  });
  const callback = await fetch(allowed.headers.get("location")!);
  expect(callback.status).toBe(200);

  // HighLevel's token answer carries no agency name; only its INSTALL webhook does.
  let name: unknown;
  for (const deadline = Date.now() + 20_000; Date.now() < deadline && !name; await sleep(200)) {
    const listed = (await (
      await fetch(`${app}/api/installations`, { headers: { authorization: `Bearer ${key}` } })
    ).json()) as {
      companies: { id: string; name: string | null }[];
    };
    name = listed.companies.find((c) => `company:${c.id}` === agency)?.name;
  }
  expect(name).toBe("Acme Agency");
});

it("stops the app, its PostgreSQL and both ports within 5 s of Ctrl-C", async () => {
  await demoRunning();
  const running = processesOfThisDemo().map(commandOf);
  expect(running.some((c) => c.includes(`postgres -D ${path.join(dataDir, "postgres")}`))).toBe(true);
  expect(running.some((c) => c.includes("sandbox/demo.ts"))).toBe(true);
  expect(await listening(port)).toBe(true);
  expect(await listening(sandboxPort)).toBe(true);
  // A create just before (when the agency above is installed): the rate budget's connection is
  // open when Ctrl-C stops the embedded database with the app.
  const key = /API key \(kept in [^)]*\): (\S+)/.exec(screen)![1]!;
  const headers = { authorization: `Bearer ${key}` };
  const dental = "AcmeDntl4Rw8ZkP1mQ2s";
  const connected = async () => {
    const res = await fetch(`http://127.0.0.1:${port}/api/installations`, { headers });
    const { locations } = (await res.json()) as { locations: { id: string; status: string }[] };
    return locations.some((l) => l.id === dental && l.status === "active");
  };
  for (const deadline = Date.now() + 20_000; Date.now() < deadline && !(await connected());) await sleep(200);
  const made = await fetch(`http://127.0.0.1:${port}/api/locations/${dental}/block-slots`, {
    method: "POST",
    headers: { ...headers, "content-type": "application/json" },
    body: JSON.stringify({
      calendarId: "CalDntlCln9aT4wX6pQ1",
      startTime: "2030-01-07T15:00:00Z",
      endTime: "2030-01-07T16:00:00Z",
      title: "Before Ctrl-C",
    }),
  });
  // Made when the agency above is installed (both tests run); refused with 404 when this one runs alone.
  expect([201, 404]).toContain(made.status);

  terminal!.stdin?.write("\x03");
  const deadline = Date.now() + STOPS_WITHIN_MS;
  while (processesOfThisDemo().length > 0 && Date.now() < deadline) await sleep(100);

  expect(processesOfThisDemo().map(commandOf)).toEqual([]);
  expect(await listening(port)).toBe(false);
  expect(await listening(sandboxPort)).toBe(false);
  expect(screen).toContain("Stopping…");
  // Nothing logged as a warning or an error on the way out (the embedded database, stopped by the
  // same Ctrl-C, often closes the app's connections before the app hears the signal), and no stack
  // trace of a connection the stop closed.
  expect(screen).not.toMatch(/"level":(40|50|60)/);
  expect(screen).not.toMatch(/"stack"/);
});
