import { spawn, type ChildProcessWithoutNullStreams } from "node:child_process";
import path from "node:path";

const ROOT = path.resolve(__dirname, "..", "..");

/**
 * Runs a TypeScript file in ONE Node process (`--import tsx`, not the tsx CLI, which would
 * start a second process): SIGKILL then really kills what runs the code.
 */
export function spawnTs(script: string, args: string[], env: Record<string, string>): ChildProcessWithoutNullStreams {
  return spawn(process.execPath, ["--import", "tsx", path.join(ROOT, script), ...args], { cwd: ROOT, env });
}

export interface WorkerResult {
  ok: number;
  errors: string[];
}

/** Resolves with the first stdout line that satisfies `match`. */
export function waitForLine(child: ChildProcessWithoutNullStreams, match: (line: string) => boolean): Promise<string> {
  return new Promise((resolve, reject) => {
    let buffer = "";
    let stderr = "";
    child.stderr.on("data", (c: Buffer) => (stderr += c.toString()));
    const onData = (chunk: Buffer) => {
      buffer += chunk.toString();
      const lines = buffer.split("\n");
      buffer = lines.pop() ?? "";
      const found = lines.find(match);
      if (found !== undefined) {
        child.stdout.off("data", onData);
        resolve(found);
      }
    };
    child.stdout.on("data", onData);
    child.once("exit", (code) =>
      reject(new Error(`process exited (${code}) before answering:\n${stderr.slice(-2000)}`)),
    );
  });
}

/** Runs the token worker in `count` processes at once, each with its share of the calls. */
export async function runTokenWorkers(
  env: Record<string, string>,
  callsPerProcess: string[][],
): Promise<WorkerResult[]> {
  const children = callsPerProcess.map((calls) =>
    spawnTs("test/support/token-worker.ts", [JSON.stringify(calls)], env),
  );
  try {
    await Promise.all(children.map((c) => waitForLine(c, (l) => l === "ready")));
    const results = children.map((c) => waitForLine(c, (l) => l.startsWith("{")));
    for (const c of children) c.stdin.write("go\n");
    return (await Promise.all(results)).map((line) => JSON.parse(line) as WorkerResult);
  } finally {
    for (const c of children) if (c.exitCode === null) c.kill("SIGKILL");
  }
}

/** Runs a command-line tool to its end; resolves with its exit code and output. */
export function runCli(
  script: string,
  args: string[],
  env: Record<string, string>,
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const child = spawnTs(script, args, env);
  let stdout = "";
  let stderr = "";
  child.stdout.on("data", (c: Buffer) => (stdout += c.toString()));
  child.stderr.on("data", (c: Buffer) => (stderr += c.toString()));
  return new Promise((resolve, reject) => {
    child.once("error", reject);
    child.once("close", (code) => resolve({ code, stdout, stderr }));
  });
}
