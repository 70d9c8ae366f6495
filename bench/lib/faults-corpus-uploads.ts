import { API_KEY } from "./stack";
import type { Case, CorpusContext } from "./faults-corpus-cases";

const BULK = "/api/block-slots/bulk";
const HEADER = "locationId,calendarId,assignedUserId,startTime,endTime,title";
const CSV = { Authorization: `Bearer ${API_KEY}`, "Content-Type": "text/csv" };
const JSON_TYPE = { Authorization: `Bearer ${API_KEY}`, "Content-Type": "application/json" };

/** A valid row as long as one can be: ids of 100 characters, a title of 200. 10,000 make 4.6 MB. */
function longRow(i: number, location = "L".repeat(100)): string {
  const start = Date.UTC(2032, 0, 1) + i * 3600_000;
  const title = `${"Quarterly review ".repeat(12)}${String(i).padStart(5, "0")}`.slice(0, 200);
  return `${location},${"C".repeat(100)},,${new Date(start).toISOString()},${new Date(start + 1800_000).toISOString()},${title}`;
}

const upload = (name: string, headers: Record<string, string>, body: string, extra: Partial<Case> = {}): Case => ({
  name,
  method: "POST",
  path: BULK,
  headers,
  body,
  watchLoop: true,
  ...extra,
});

/**
 * The uploads that froze the app when bodies were parsed in one go (100,000 one-column rows held
 * the event loop for ~10 s), and the largest valid one. While each is sent, /healthz is asked
 * again and again from outside: its slowest answer is the longest the app stopped serving.
 */
export function worstCaseUploads(ctx: CorpusContext): Case[] {
  const rows = (n: number) => Array.from({ length: n }, (_, i) => longRow(i));
  return [
    upload("upload: CSV of 100,000 one-column rows (200 kB)", CSV, `${HEADER}\n${"a\n".repeat(100_000)}`),
    upload("upload: CSV, 10,001 valid-looking rows (4.6 MB)", CSV, [HEADER, ...rows(10_001)].join("\n")),
    upload(
      "upload: CSV, a quote left open on line 2 (4.6 MB)",
      CSV,
      [HEADER, longRow(0).replace(/,Quarterly/, ',"Quarterly'), ...rows(10_000)].join("\n"),
    ),
    upload(
      "upload: CSV, all 10,000 rows invalid (4.6 MB)",
      CSV,
      [HEADER, ...rows(10_000).map((r) => r.replace(",,", ",user-1,"))].join("\n"),
    ),
    upload("upload: JSON, 5 MB of empty items", JSON_TYPE, `{"items":[${Array(1_700_000).fill("{}").join(",")}]}`),
    upload(
      "upload: JSON, 5 MB under an unknown field",
      JSON_TYPE,
      `{"rows":[${Array(2_500_000).fill("1").join(",")}]}`,
    ),
    upload(
      "upload: JSON, one item of 2.5 million values",
      JSON_TYPE,
      `{"items":[{"title":[${Array(2_400_000).fill("1").join(",")}]}]}`,
    ),
    upload("upload: JSON, a 5 MB title", JSON_TYPE, JSON.stringify({ items: [{ title: "x".repeat(5_000_000) }] })),
    // Accepted, for locations never installed, and cancelled at once: nothing reaches HighLevel.
    upload(
      "upload: CSV, 10,000 valid rows (4.6 MB, accepted)",
      CSV,
      [HEADER, ...Array.from({ length: 10_000 }, (_, i) => longRow(i, `nowhere-${i % 50}`))].join("\n"),
      {
        expect: 202,
        check: (body) => (JSON.parse(body) as { total?: number }).total === 10_000,
        after: async (body) => {
          const { id } = JSON.parse(body) as { id: string };
          const res = await fetch(`${ctx.url}${BULK}/${id}`, { method: "DELETE", headers: CSV });
          if (res.status !== 200) throw new Error(`cancelling the accepted upload answered ${res.status}`);
        },
      },
    ),
  ];
}
