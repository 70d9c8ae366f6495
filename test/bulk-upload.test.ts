import http from "node:http";
import type { AddressInfo } from "node:net";
import zlib from "node:zlib";
import { installCompany } from "./support/api";
import { bigAgency } from "./support/bulk";
import { startHarness, TEST_API_KEY, type Harness } from "./support/harness";

/**
 * Uploads no request may use to freeze the app: the body is read as it arrives, a body that
 * cannot be a valid job is refused at the first sign (before the client has even finished
 * sending), and other requests are served while a large one is read.
 */
const BULK = "/api/block-slots/bulk";
const HEADER = "locationId,calendarId,assignedUserId,startTime,endTime,title";
const row = (i: number, title = `Row ${i}`, location = `loc-${i % 3}`, calendar = "cal-1") => {
  const start = Date.UTC(2031, 0, 1) + i * 3600_000;
  return `${location},${calendar},,${new Date(start).toISOString()},${new Date(start + 1800_000).toISOString()},${title}`;
};
/** A valid row as long as one can be (ids of 100 characters, a title of 200): 10,000 of them make 4.6 MB. */
const longRow = (i: number) =>
  row(
    i,
    `${"Quarterly review ".repeat(12)}${String(i).padStart(5, "0")}`.slice(0, 200),
    "L".repeat(100),
    "C".repeat(100),
  );

let h: Harness;
let server: http.Server;
let port: number;
beforeAll(async () => {
  h = await startHarness({ sandbox: { companies: [bigAgency(3)] } }); // nobody works the queue
  await installCompany(h, "agency-big");
  server = h.app.listen(0, "127.0.0.1");
  await new Promise((resolve) => server.once("listening", resolve));
  port = (server.address() as AddressInfo).port;
});
afterAll(async () => {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
  await h.close();
});

interface Answer {
  status: number;
  type: string;
  body: { detail?: string; errors?: { path: string; message: string }[] };
}

/** A POST whose body the test writes piece by piece (chunked): it may answer before the body ends. */
function upload(type: string, headers: Record<string, string> = {}) {
  const req = http.request({
    host: "127.0.0.1",
    port,
    method: "POST",
    path: BULK,
    agent: false,
    headers: { Authorization: `Bearer ${TEST_API_KEY}`, "Content-Type": type, ...headers },
  });
  const answer = new Promise<Answer>((resolve, reject) => {
    req.once("error", reject);
    req.once("response", (res) => {
      let text = "";
      res.setEncoding("utf8");
      res.on("data", (c: string) => (text += c));
      res.once("end", () =>
        resolve({ status: res.statusCode!, type: String(res.headers["content-type"]), body: JSON.parse(text || "{}") }),
      );
    });
  });
  return { req, answer };
}

/** Sends the start of a body and holds the request open: only a reader that stops early can answer. */
async function answerBeforeTheEnd(type: string, start: string | Buffer): Promise<Answer> {
  const { req, answer } = upload(type);
  req.write(start);
  try {
    return await answer;
  } finally {
    req.destroy();
  }
}

const healthz = () =>
  new Promise<void>((resolve, reject) => {
    http
      .get({ host: "127.0.0.1", port, path: "/healthz", agent: false }, (res) => {
        res.resume();
        res.once("end", () => (res.statusCode === 200 ? resolve() : reject(new Error(`healthz ${res.statusCode}`))));
      })
      .once("error", reject);
  });

describe("a body that cannot be a valid job is refused at once, naming the line, without reading the rest", () => {
  it("100,000 one-column rows: line 2", async () => {
    const res = await answerBeforeTheEnd("text/csv", `${HEADER}\n${"a\n".repeat(100_000)}`);
    expect(res.status).toBe(400);
    expect(res.type).toContain("application/problem+json");
    expect(res.body.errors).toEqual([{ path: "line 2", message: "has 1 cells, the header has 6" }]);
  });

  it("a valid-looking CSV of over 10,000 rows: the 10,001st row, line 10,002", async () => {
    const rows = Array.from({ length: 10_010 }, (_, i) => longRow(i));
    const res = await answerBeforeTheEnd("text/csv", [HEADER, ...rows].join("\n"));
    expect(res.status).toBe(400);
    expect(res.body.errors).toEqual([{ path: "line 10002", message: "one row too many: at most 10,000 rows per job" }]);
    expect(await h.db.bulkJob.count()).toBe(0);
  });

  it("a quote left open swallows the file: the line where it opened", async () => {
    const rest = Array.from({ length: 500 }, (_, i) => row(i + 2)).join("\n");
    const res = await answerBeforeTheEnd("text/csv", `${HEADER}\n${row(0)}\n${row(1, '"Unclosed')}\n${rest}`);
    expect(res.status).toBe(400);
    expect(res.body.errors).toEqual([
      { path: "line 3", message: "the row is longer than 10,000 characters (a quote left open?)" },
    ]);
  });

  it("JSON: a field other than items, and one item past 10,000", async () => {
    const other = await answerBeforeTheEnd("application/json", `{"rows":[${"1,".repeat(100_000)}`);
    expect(other.status).toBe(400);
    expect(other.body.errors).toEqual([{ path: "body", message: "unknown field: rows" }]);
    const many = await answerBeforeTheEnd("application/json", `{"items":[${"{},".repeat(10_001)}`);
    expect(many.status).toBe(400);
    expect(many.body.errors).toEqual([{ path: "items", message: "at most 10,000 items per job" }]);
  });
});

it("answers /healthz sent while a 4.6 MB CSV is being read before it answers the CSV", async () => {
  const body = [HEADER, ...Array.from({ length: 10_001 }, (_, i) => longRow(i))].join("\n");
  expect(body.length).toBeGreaterThan(4_500_000);
  const order: string[] = [];
  const { req, answer } = upload("text/csv");
  const checks: Promise<void>[] = [];
  // Sent once the whole upload is on its way: from then on the app is reading and checking it.
  req.end(body, () => {
    for (let i = 0; i < 10; i++) checks.push(healthz().then(() => void order.push("healthz")));
  });
  const res = await answer;
  order.push("upload");
  await Promise.all(checks);
  expect(res.status).toBe(400);
  expect(order).toEqual([...Array(10).fill("healthz"), "upload"]);
});

describe("what any body reader does", () => {
  it("refuses a body over 5 MB sent without a length, and one that says it is", async () => {
    const { req, answer } = upload("text/csv");
    req.write(`${HEADER}\n`);
    // Rows past the row limit would be refused first: 9,000 long ones stay under it and pass 5 MB.
    for (let i = 0; i < 9_000 && !req.destroyed; i++) req.write(`${row(i, "x".repeat(600))}\n`);
    const res = await answer;
    req.destroy();
    expect([res.status, res.body]).toMatchObject([413, { detail: expect.stringContaining("5 MB") }]);

    const declared = upload("text/csv", { "Content-Length": String(6 * 1024 * 1024) });
    declared.req.write(HEADER);
    const tooLong = await declared.answer;
    declared.req.destroy();
    expect(tooLong.status).toBe(413);
  });

  it("reads gzip, and refuses a body that says gzip and is not", async () => {
    const csv = [HEADER, row(0), row(1)].join("\n");
    const gz = upload("text/csv", { "Content-Encoding": "gzip" });
    gz.req.end(zlib.gzipSync(csv));
    expect(await gz.answer).toMatchObject({ status: 202 });
    const fake = upload("text/csv", { "Content-Encoding": "gzip" });
    fake.req.end(csv);
    expect(await fake.answer).toMatchObject({ status: 400, body: { detail: "The request body is not valid gzip." } });
    const unknown = upload("text/csv", { "Content-Encoding": "x-rot13" });
    unknown.req.end(csv);
    expect((await unknown.answer).status).toBe(415);
  });

  it("refuses a charset other than UTF-8 instead of misreading it", async () => {
    const { req, answer } = upload("text/csv; charset=utf-16le");
    req.end(Buffer.from([HEADER, row(0)].join("\n"), "utf16le"));
    expect(await answer).toMatchObject({ status: 415, body: { detail: expect.stringContaining("utf-16le") } });
  });
});
