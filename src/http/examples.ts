/**
 * Examples shown in the API reference, each checked against its schema by a test, so an
 * integrator can copy one and it is accepted.
 */
export const EXAMPLE_LOCATION = "ve9EPM428h8vShlRW1KT";
export const EXAMPLE_CALENDAR = "BqTwX8QFwXzpegMve9EQ";

export const blockSlotInputExample = {
  calendarId: EXAMPLE_CALENDAR,
  startTime: "2030-05-01T12:00:00+02:00",
  endTime: "2030-05-01T13:00:00+02:00",
  title: "Team training",
};

export const blockSlotExample = {
  id: "mMzzMFPnlBOtTrNnZZa6",
  locationId: EXAMPLE_LOCATION,
  ...blockSlotInputExample,
};
