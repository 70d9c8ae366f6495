/** Rows under a header, each column as wide as its widest cell: for a terminal, not for parsing. */
export function table(header: string[], rows: string[][]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? "").length)));
  const line = (cells: string[]) =>
    cells
      .map((c, i) => c.padEnd(widths[i] ?? 0))
      .join("  ")
      .trimEnd();
  return [line(header), ...rows.map(line)].join("\n") + "\n";
}

/** A date to the minute, in UTC, the same on every operator's machine. */
export const minuteUtc = (date: Date | null): string =>
  date ? `${date.toISOString().slice(0, 16).replace("T", " ")} UTC` : "never";
