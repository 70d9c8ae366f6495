import fs from "node:fs";
import os from "node:os";
import path from "node:path";

const RESULTS = path.resolve(__dirname, "..", "RESULTS.md");

export function machine(): string {
  const cpus = os.cpus();
  return `${cpus.length} × ${cpus[0]?.model.trim() ?? "CPU"}, ${Math.round(os.totalmem() / 2 ** 30)} GiB, Node ${process.version}, ${os.platform()} ${os.release()}`;
}

/** Replaces the text between `<!-- name:start -->` and `<!-- name:end -->` in bench/RESULTS.md. */
export function writeSection(name: string, text: string): void {
  const start = `<!-- ${name}:start -->`;
  const end = `<!-- ${name}:end -->`;
  let doc = fs.existsSync(RESULTS)
    ? fs.readFileSync(RESULTS, "utf8")
    : "# Benchmark results\n\nProduced by `npm run bench`, `npm run bench:faults`, `npm run bench:scale` and `npm run bench:plans`; figures from one run on the machine named.\n";
  const block = `${start}\n${text.trim()}\n${end}`;
  const from = doc.indexOf(start);
  const to = doc.indexOf(end);
  doc =
    from >= 0 && to > from ? doc.slice(0, from) + block + doc.slice(to + end.length) : `${doc.trimEnd()}\n\n${block}\n`;
  fs.writeFileSync(RESULTS, doc);
}

/** A report written as it is printed: `say` prints a line and keeps it for RESULTS.md. */
export function report(): { lines: string[]; say: (line?: string) => void } {
  const lines: string[] = [];
  return {
    lines,
    say: (line = "") => {
      lines.push(line);
      process.stdout.write(`${line}\n`);
    },
  };
}

/** How a figure is judged beside its goal. */
export const goal = (ok: boolean) => (ok ? "meets goal" : "MISSES goal");
