/** A mistake in how a command was called: exit code 2 and the usage text, as shells expect. */
export class UsageError extends Error {}

/** Whether `error` is the caller's mistake (ours, or node's own argument parser refusing a flag). */
export const isUsageError = (error: unknown): boolean =>
  error instanceof UsageError || ((error as { code?: string }).code?.startsWith("ERR_PARSE_ARGS") ?? false);

/**
 * Runs a command as the shell would: its exit code, or, when it throws, 2 for a usage mistake (with
 * `usage` after the reason) and 1 for anything else, the reason written to `err`.
 */
export async function exitCode(
  run: () => Promise<number>,
  usage: string,
  err: NodeJS.WritableStream,
  describe: (error: unknown) => string = (e) => (e instanceof Error ? e.message : String(e)),
): Promise<number> {
  try {
    return await run();
  } catch (e: unknown) {
    const mistake = isUsageError(e);
    err.write(`${describe(e)}\n${mistake ? `\n${usage}` : ""}`);
    return mistake ? 2 : 1;
  }
}
