import { AuditLog } from "../src/audit/log";
import { BlockLedger } from "../src/block-slots/ledger";
import { createDb, type Db } from "../src/db/client";
import type { BlockSlot } from "../src/highlevel/calendars";
import { startHarness, type Harness } from "./support/harness";

/**
 * Instants stay instants on a PostgreSQL server whose own time zone is not UTC. Prisma sends a
 * DateTime as UTC without a zone, which such a server would read as its local time: a block
 * recorded by one statement and looked up by another would then be five hours apart.
 */
let h: Harness;
let db: Db;
beforeAll(async () => {
  h = await startHarness();
  const database = new URL(h.databaseUrl).pathname.slice(1);
  await h.db.$executeRawUnsafe(`ALTER DATABASE "${database}" SET TimeZone = 'America/New_York'`);
  // Connections opened from now on get the server's new default.
  db = createDb(h.databaseUrl, { max: 2 });
});
afterAll(async () => {
  await db.$disconnect();
  await h.close();
});

const body = {
  calendarId: "cal-1",
  startTime: "2030-05-01T01:00:00.000Z",
  endTime: "2030-05-01T01:30:00.000Z",
  title: "Staff meeting",
};

it("a block recorded on a server in New York time is stored at its instant and found again", async () => {
  const ledger = new BlockLedger(db, new AuditLog(db, h.services.log));
  await ledger.record("loc-tz", { id: "slot-tz" } as BlockSlot, body, { origin: "api" }, { kind: "api_key" });

  const [row] = await db.$queryRaw<{ utc: string }[]>`
    SELECT to_char(start_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI') AS utc FROM blocks WHERE block_slot_id = 'slot-tz'`;
  expect(row?.utc).toBe("2030-05-01T01:00");
  expect((await ledger.findEqual("loc-tz", body)).map((e) => e.blockSlotId)).toEqual(["slot-tz"]);
});

it("a time Prisma writes itself is the instant given", async () => {
  const at = new Date("2030-05-01T01:00:00.000Z");
  await db.block.create({
    data: { blockSlotId: "slot-tz-2", locationId: "loc-tz", startAt: at, endAt: at, origin: "api" },
  });
  const [row] = await db.$queryRaw<{ same: boolean }[]>`
    SELECT start_at = '2030-05-01T01:00:00Z'::timestamptz AS same FROM blocks WHERE block_slot_id = 'slot-tz-2'`;
  expect(row?.same).toBe(true);
});
