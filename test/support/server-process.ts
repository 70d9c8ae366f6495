import type { ChildProcessWithoutNullStreams } from "node:child_process";
import { setTimeout as sleep } from "node:timers/promises";
import { spawnTs } from "./processes";

/** A server running as its own process, with every log line it wrote so far. */
export interface ServerProcess {
  child: ChildProcessWithoutNullStreams;
  url: string;
  /** stdout lines (pino JSON), in order. */
  lines: string[];
  stderr(): string;
  /** Resolves with the first line that contains `text`; rejects if the process exits first. */
  waitForLog(text: string): Promise<string>;
  /** The exit code, once it has exited and everything it wrote has been read. */
  exited: Promise<number | null>;
}

/** Spawns `script` (src/server.ts or a test's variant of it) and waits until it is listening. */
export async function startServerProcess(script: string, env: Record<string, string>): Promise<ServerProcess> {
  const child = spawnTs(script, [], env);
  const lines: string[] = [];
  let partial = "";
  let stderr = "";
  let code: number | null | undefined;
  child.stdout.on("data", (chunk: Buffer) => {
    const parts = (partial + chunk.toString()).split("\n");
    partial = parts.pop() ?? "";
    lines.push(...parts);
  });
  child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
  // "close", not "exit": a process's last lines can still be in the pipe when "exit" fires.
  const exited = new Promise<number | null>((resolve) =>
    child.once("close", (c) => {
      code = c;
      resolve(c);
    }),
  );
  const waitForLog = async (text: string): Promise<string> => {
    for (;;) {
      const found = lines.find((l) => l.includes(text));
      if (found !== undefined) return found;
      if (code !== undefined) throw new Error(`exited (${code}) before logging "${text}":\n${stderr.slice(-2000)}`);
      await sleep(20);
    }
  };
  const listening = JSON.parse(await waitForLog('"listening"')) as { url: string };
  return { child, url: listening.url, lines, stderr: () => stderr, waitForLog, exited };
}

/** Resolves once `condition()` holds (checked every 20 ms); a test's own time-out bounds the wait. */
export async function until(condition: () => boolean | Promise<boolean>): Promise<void> {
  while (!(await condition())) await sleep(20);
}
