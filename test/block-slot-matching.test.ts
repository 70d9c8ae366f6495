/**
 * When a create's outcome is unknown the app looks for "the same block" before sending it again.
 * HighLevel's listing is filtered by calendar or user and window, but that is HighLevel's filter,
 * not a promise: the block found must itself have the calendar or user, both times and the title.
 */
import { matchesBody } from "../src/block-slots/service";

const body = {
  calendarId: "cal-1",
  startTime: "2030-05-01T12:00:00+02:00",
  endTime: "2030-05-01T13:00:00+02:00",
  title: "Training",
};
const slot = { id: "ev-1", locationId: "loc-1", ...body };

describe("the same block", () => {
  it("is the block with the body's calendar, times and title, whatever the offset the times are written in", () => {
    expect(matchesBody(slot, body)).toBe(true);
    expect(matchesBody({ ...slot, startTime: "2030-05-01T10:00:00Z", endTime: "2030-05-01T11:00:00.000Z" }, body)).toBe(
      true,
    );
  });

  it("is not a block on another calendar, or with another start, end or title", () => {
    expect(matchesBody({ ...slot, calendarId: "cal-2" }, body)).toBe(false);
    expect(matchesBody({ ...slot, startTime: "2030-05-01T12:30:00+02:00" }, body)).toBe(false);
    expect(matchesBody({ ...slot, endTime: "2030-05-01T14:00:00+02:00" }, body)).toBe(false);
    expect(matchesBody({ ...slot, title: "Lunch" }, body)).toBe(false);
  });

  it("for a user's block, is the block assigned to that user, not another's", () => {
    const { calendarId: _calendar, ...times } = body;
    const forUser = { ...times, assignedUserId: "lee" };
    const userSlot = { id: "ev-2", locationId: "loc-1", ...forUser };
    expect(matchesBody(userSlot, forUser)).toBe(true);
    expect(matchesBody({ ...userSlot, assignedUserId: "kim" }, forUser)).toBe(false);
    expect(matchesBody({ ...userSlot, assignedUserId: undefined, calendarId: "cal-1" }, forUser)).toBe(false);
  });

  it("without a title, is a block without a title", () => {
    const { title: _title, ...untitled } = body;
    const { title: _t, ...untitledSlot } = slot;
    expect(matchesBody(untitledSlot, untitled)).toBe(true);
    expect(matchesBody({ ...untitledSlot, title: "" }, untitled)).toBe(true);
    expect(matchesBody(slot, untitled)).toBe(false);
  });

  it("is not a block whose times are missing or unreadable", () => {
    expect(matchesBody({ ...slot, startTime: undefined as unknown as string }, body)).toBe(false);
    expect(matchesBody({ ...slot, endTime: "soon" }, body)).toBe(false);
  });
});
