/**
 * One figure in a process of its own (`npm run bench` starts one per figure), so a figure never
 * inherits the heap, sockets or timers an earlier one left behind. Prints its result as JSON.
 */
import { bulk, refreshStorm, throughput, webhookIntake } from "./lib/figures";

const FIGURES = { bulk, refreshStorm, throughput, webhookIntake } as Record<string, (o: never) => Promise<unknown>>;

async function main() {
  const [name, options] = process.argv.slice(2);
  const figure = FIGURES[name ?? ""];
  if (!figure) throw new Error(`no figure "${name}"`);
  const result = await figure(JSON.parse(options ?? "{}") as never);
  process.stdout.write(`RESULT ${JSON.stringify(result)}\n`);
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    process.stderr.write(`${err instanceof Error ? err.stack : String(err)}\n`);
    process.exit(1);
  },
);
