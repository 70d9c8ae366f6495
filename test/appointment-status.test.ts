import { freesTime } from "../src/highlevel/calendars";

/** Which appointments still hold their time: read the same by plans' conflicts and by blocking rules. */
describe("an appointment's status", () => {
  it("frees the time once cancelled or invalid, however it is spelled or cased", () => {
    for (const status of ["cancelled", "canceled", "invalid", "Cancelled", "CANCELED", "Invalid"]) {
      expect([status, freesTime(status)]).toEqual([status, true]);
    }
  });

  it("holds the time while new, confirmed, showed or no-show, or without a status", () => {
    for (const status of ["new", "confirmed", "showed", "noshow", "", undefined]) {
      expect([status, freesTime(status)]).toEqual([status, false]);
    }
  });
});
