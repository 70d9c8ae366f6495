/** Appointments beside block slots: the calendar events HighLevel lists, returns and (dangerously) deletes. */
import request from "supertest";
import { CAL, createSlot, locationToken, sandboxesFor } from "./support/sandbox-fixtures";
import { getValidator, type Sandbox, type SandboxCompany } from "../sandbox";

const DENTAL: SandboxCompany = {
  id: "agency-dental",
  name: "Dental Group",
  locations: [
    {
      id: "loc-d",
      name: "Dental Downtown",
      timezone: "America/New_York",
      users: [
        { id: "user-dr", name: "Dr. Patel" },
        { id: "user-hy", name: "Tom Becker" },
      ],
      calendars: [
        { id: "cal-clean", name: "Cleanings", teamMembers: ["user-hy"] },
        { id: "cal-consult", name: "Consultations", teamMembers: ["user-dr", "user-hy"] },
      ],
    },
    { id: "loc-e", name: "Dental East", timezone: "America/New_York", calendars: [{ id: "cal-east", name: "East" }] },
  ],
};

let sb: Sandbox;
let token: string;
const sandbox = sandboxesFor([DENTAL]);
beforeEach(async () => {
  sb = await sandbox();
  token = await locationToken(sb, "loc-d");
});

const api = (s: Sandbox, method: "get" | "put" | "delete", path: string) =>
  request(s.url)[method](path).set("Authorization", `Bearer ${token}`).set("Version", CAL);

const WINDOW = {
  startTime: String(Date.parse("2030-05-01T00:00:00Z")),
  endTime: String(Date.parse("2030-05-02T00:00:00Z")),
};
const BLOCK = {
  locationId: "loc-d",
  calendarId: "cal-clean",
  title: "Staff meeting",
  startTime: "2030-05-01T08:00:00-04:00",
  endTime: "2030-05-01T09:00:00-04:00",
};

function book(calendarId = "cal-clean", startTime = "2030-05-01T14:00:00Z", endTime = "2030-05-01T14:30:00Z") {
  return sb.state.addAppointment({ locationId: "loc-d", calendarId, startTime, endTime, title: "Cleaning – Ann" });
}

describe("GET /calendars/events", () => {
  it("returns appointments and blocks of the window; only appointments carry contactId and appointmentStatus", async () => {
    const appointment = book();
    const block = (await createSlot(sb, token, BLOCK).expect(201)).body as { id: string };
    book("cal-clean", "2030-05-03T14:00:00Z", "2030-05-03T15:00:00Z"); // outside the window

    const res = await api(sb, "get", "/calendars/events")
      .query({ locationId: "loc-d", calendarId: "cal-clean", ...WINDOW })
      .expect(200);
    expect(res.body.events.map((e: { id: string }) => e.id)).toEqual([block.id, appointment.id]);
    const [blockEvent, appointmentEvent] = res.body.events;
    expect(blockEvent).not.toHaveProperty("contactId");
    expect(blockEvent).not.toHaveProperty("appointmentStatus");
    expect(appointmentEvent).toMatchObject({
      calendarId: "cal-clean",
      locationId: "loc-d",
      contactId: expect.any(String),
      appointmentStatus: "confirmed",
      assignedUserId: "user-hy",
      users: ["user-hy"],
      // Shown in the location's zone, as HighLevel shows times.
      startTime: "2030-05-01T10:00:00-04:00",
      endTime: "2030-05-01T10:30:00-04:00",
    });
    expect(sb.state.invalidRequests()).toEqual([]);
  });

  it("filters by calendar or by user, and asks for one of them", async () => {
    book("cal-clean");
    const consult = sb.state.addAppointment({
      locationId: "loc-d",
      calendarId: "cal-consult",
      assignedUserId: "user-dr",
      startTime: "2030-05-01T15:00:00Z",
      endTime: "2030-05-01T16:00:00Z",
    });
    const ids = async (query: Record<string, string>) =>
      (
        await api(sb, "get", "/calendars/events")
          .query({ locationId: "loc-d", ...WINDOW, ...query })
          .expect(200)
      ).body.events.map((e: { id: string }) => e.id);
    expect(await ids({ calendarId: "cal-consult" })).toEqual([consult.id]);
    expect(await ids({ userId: "user-dr" })).toEqual([consult.id]);
    expect(await ids({ userId: "user-hy" })).toHaveLength(1);

    const none = await api(sb, "get", "/calendars/events")
      .query({ locationId: "loc-d", ...WINDOW })
      .expect(422);
    expect(none.body.message).toEqual(["one of calendarId, userId or groupId is required"]);
    await api(sb, "get", "/calendars/events")
      .query({ locationId: "loc-e", calendarId: "cal-east", ...WINDOW })
      .expect(403);
  });

  it("GET /calendars/blocked-slots still lists blocks only", async () => {
    book();
    const block = (await createSlot(sb, token, BLOCK).expect(201)).body as { id: string };
    const res = await api(sb, "get", "/calendars/blocked-slots")
      .query({ locationId: "loc-d", calendarId: "cal-clean", ...WINDOW })
      .expect(200);
    expect(res.body.events.map((e: { id: string }) => e.id)).toEqual([block.id]);
  });
});

describe("GET /calendars/events/appointments/{eventId}", () => {
  it("returns an appointment, or a block in the same shape without the appointment fields", async () => {
    const appointment = book();
    const res = await api(sb, "get", `/calendars/events/appointments/${appointment.id}`).expect(200);
    expect(res.body).toEqual({ event: appointment });

    const block = (await createSlot(sb, token, BLOCK).expect(201)).body as { id: string };
    const asEvent = await api(sb, "get", `/calendars/events/appointments/${block.id}`).expect(200);
    expect(asEvent.body.event).toMatchObject({ id: block.id, title: "Staff meeting", calendarId: "cal-clean" });
    expect(asEvent.body.event).not.toHaveProperty("contactId");
    expect(asEvent.body.event).not.toHaveProperty("appointmentStatus");
  });

  it("an unknown id answers 404, another location's event 403", async () => {
    const missing = await api(sb, "get", "/calendars/events/appointments/nope").expect(404);
    expect(missing.body).toEqual({ statusCode: 404, message: "Event not found" });
    const east = sb.state.addAppointment({
      locationId: "loc-e",
      calendarId: "cal-east",
      startTime: "2030-05-01T14:00:00Z",
      endTime: "2030-05-01T15:00:00Z",
    });
    await api(sb, "get", `/calendars/events/appointments/${east.id}`).expect(403);
    expect(sb.state.invalidRequests()).toHaveLength(1);
  });
});

describe("what HighLevel lets a block-slot client do to an appointment", () => {
  it("DELETE /calendars/events/{eventId} deletes a customer's appointment", async () => {
    const appointment = book();
    const res = await api(sb, "delete", `/calendars/events/${appointment.id}`).send({}).expect(201);
    expect(res.body).toEqual({ succeeded: true });
    expect(sb.state.appointments.get(appointment.id)).toBeUndefined();
    expect(sb.state.requests.at(-1)!.note).toBe("deleted an appointment");
  });

  it("PUT /calendars/events/block-slots/{eventId} edits it, and the request is marked for tests to find", async () => {
    const appointment = book();
    await api(sb, "put", `/calendars/events/block-slots/${appointment.id}`)
      .send({ ...BLOCK, startTime: "2030-05-01T11:00:00-04:00", endTime: "2030-05-01T12:00:00-04:00" })
      .expect(201);
    expect(sb.state.appointments.get(appointment.id)).toMatchObject({
      title: "Staff meeting",
      startTime: "2030-05-01T11:00:00-04:00",
      contactId: appointment.contactId,
    });
    expect(
      sb.state.requests.filter((r) => r.note === "edited an appointment through the block-slot route"),
    ).toHaveLength(1);
  });
});

describe("GET /calendars/", () => {
  it("lists calendars with their team members as TeamMember objects", async () => {
    const res = await api(sb, "get", "/calendars/").query({ locationId: "loc-d" }).expect(200);
    expect(res.body.calendars[1]).toMatchObject({
      id: "cal-consult",
      name: "Consultations",
      teamMembers: [
        { userId: "user-dr", isPrimary: true },
        { userId: "user-hy", isPrimary: false },
      ],
    });
    expect(getValidator().responseIssues("get-calendars", 200, res.body)).toEqual([]);
  });
});
