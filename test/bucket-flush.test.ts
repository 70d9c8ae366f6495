import { createDb, type Db } from "../src/db/client";
import { createLogger } from "../src/logger";
import { BucketRecorder } from "../src/metrics/buckets";
import { LogCapture } from "./support/harness";

// The dashboard's counts when their database is gone: nothing on port 1 answers.
let db: Db;
let capture: LogCapture;
let recorder: BucketRecorder;
beforeEach(() => {
  db = createDb("postgresql://app:secret@127.0.0.1:1/none", { max: 1 });
  capture = new LogCapture();
  recorder = new BucketRecorder(db, createLogger("info", capture));
});
afterEach(async () => {
  await db.$disconnect();
});

const records = () => capture.lines.map((l) => JSON.parse(l) as { level: number; msg: string; reason?: string });

describe("dashboard counts with the database gone", () => {
  it("while running: one warning that says why, without a stack, and the next flush retries", async () => {
    recorder.count("blocks_created", "api");
    await recorder.flush();

    const warned = records().filter((r) => r.level >= 40);
    expect(warned.map((r) => r.msg)).toEqual(["dashboard counts not written; the next flush retries"]);
    expect(warned[0]!.reason).toMatch(/reach database server/);
    expect(capture.text).not.toContain('"stack"');
  });

  it("while stopping (a terminal's Ctrl-C stops the demo's database too): no warning, no stack", async () => {
    recorder.count("blocks_created", "api");
    await recorder.stop();

    expect(records().filter((r) => r.level >= 40)).toEqual([]);
    expect(records().map((r) => r.msg)).toEqual(["dashboard counts since the last flush not written: stopping"]);
    expect(capture.text).not.toContain('"stack"');
  });
});
