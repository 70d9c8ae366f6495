/** Appointments as HighLevel's users make them: the default world's bookings and the control routes. */
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { DateTime } from "luxon";
import request from "supertest";
import { sandboxesFor } from "./support/sandbox-fixtures";
import { startSandbox, type Sandbox, type SandboxCompany } from "../sandbox";

const CLINIC: SandboxCompany = {
  id: "agency-c",
  name: "Clinic Group",
  locations: [
    {
      id: "loc-c",
      name: "Clinic",
      timezone: "Australia/Sydney",
      users: [{ id: "user-c", name: "Dr. Lee" }],
      calendars: [{ id: "cal-c", name: "Visits", teamMembers: ["user-c"] }],
    },
  ],
};

const sandbox = sandboxesFor([CLINIC]);

describe("the default world's appointments", () => {
  let sb: Sandbox;
  beforeEach(async () => {
    sb = await sandbox({ companies: undefined });
  });

  it("every calendar has a few upcoming ones, on weekdays in its location's business hours", () => {
    const now = DateTime.now();
    for (const company of sb.state.companies) {
      for (const location of company.locations) {
        for (const calendar of location.calendars ?? []) {
          const booked = [...sb.state.appointments.byId.values()].filter((a) => a.calendarId === calendar.id);
          expect(booked.length).toBeGreaterThanOrEqual(3);
          for (const appointment of booked) {
            const start = DateTime.fromISO(appointment.startTime).setZone(location.timezone);
            const end = DateTime.fromISO(appointment.endTime).setZone(location.timezone);
            expect(start > now && start < now.plus({ days: 15 })).toBe(true);
            expect(start.weekday).toBeLessThanOrEqual(5);
            expect(start.hour).toBeGreaterThanOrEqual(9);
            expect(end.hour * 60 + end.minute).toBeLessThanOrEqual(17 * 60);
            expect(calendar.teamMembers).toContain(appointment.assignedUserId);
            expect(appointment.locationId).toBe(location.id);
          }
        }
      }
    }
  });

  it("a restart on the same state file keeps them rather than booking more", async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "sandbox-appointments-"));
    try {
      const stateFile = path.join(dir, "state.json");
      const first = await startSandbox({ stateFile });
      const ids = [...first.state.appointments.byId.keys()].sort();
      await first.close();
      const second = await startSandbox({ stateFile });
      await second.close();
      expect([...second.state.appointments.byId.keys()].sort()).toEqual(ids);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it("tests' own companies get none unless asked", async () => {
    expect((await sandbox()).state.appointments.byId.size).toBe(0);
    expect((await sandbox({ upcomingAppointments: true })).state.appointments.byId.size).toBe(4);
  });
});

describe("control routes for appointments", () => {
  let sb: Sandbox;
  beforeEach(async () => {
    sb = await sandbox();
  });

  const booking = {
    locationId: "loc-c",
    calendarId: "cal-c",
    startTime: "2030-05-01T00:00:00Z",
    endTime: "2030-05-01T01:00:00Z",
  };

  it("book, move, cancel and delete, each answered with the appointment", async () => {
    const created = await request(sb.url)
      .post("/_sandbox/appointments")
      .send({ ...booking, title: "Check-up", dateAdded: "ignored" })
      .expect(201);
    expect(created.body).toMatchObject({
      title: "Check-up",
      assignedUserId: "user-c",
      appointmentStatus: "confirmed",
      // Sydney is UTC+10 in May.
      startTime: "2030-05-01T10:00:00+10:00",
    });
    const id = created.body.id as string;
    const moved = await request(sb.url)
      .patch(`/_sandbox/appointments/${id}`)
      .send({ startTime: "2030-05-02T10:00:00+10:00", endTime: "2030-05-02T11:00:00+10:00", locationId: "elsewhere" })
      .expect(200);
    expect(moved.body).toMatchObject({ id, locationId: "loc-c", startTime: "2030-05-02T10:00:00+10:00" });
    const cancelled = await request(sb.url).post(`/_sandbox/appointments/${id}/cancel`).expect(200);
    expect(cancelled.body.appointmentStatus).toBe("cancelled");
    expect(
      (await request(sb.url).get("/_sandbox/appointments?locationId=loc-c").expect(200)).body.appointments,
    ).toEqual([cancelled.body]);
    await request(sb.url).delete(`/_sandbox/appointments/${id}`).expect(204);
    await request(sb.url).delete(`/_sandbox/appointments/${id}`).expect(404);
    expect(sb.state.appointments.byId.size).toBe(0);
  });

  it("names what is wrong and books nothing", async () => {
    const cases: [Record<string, unknown>, RegExp][] = [
      [{ ...booking, calendarId: "cal-other" }, /calendar cal-other is not a calendar of location loc-c/],
      [{ ...booking, endTime: booking.startTime }, /endTime must be after startTime/],
      [{ ...booking, startTime: "2030-05-01T00:00:00" }, /startTime must be an ISO-8601 date-time with an offset/],
      [{ ...booking, appointmentStatus: "maybe" }, /appointmentStatus must be one of/],
    ];
    for (const [body, message] of cases) {
      const res = await request(sb.url).post("/_sandbox/appointments").send(body).expect(400);
      expect(res.body.message).toMatch(message);
    }
    await request(sb.url)
      .post("/_sandbox/appointments")
      .send({ ...booking, locationId: "nowhere" })
      .expect(404);
    expect(sb.state.appointments.byId.size).toBe(0);
  });
});
