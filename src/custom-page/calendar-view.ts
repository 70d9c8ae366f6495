import { isAppointment, type CalendarEvent } from "../highlevel/calendars";
import type { Services } from "../services";

/** What the page can block: calendars by name, and the people who work them. */
export interface Whose {
  calendars: { id: string; name: string }[];
  teamMembers: { id: string; name: string }[];
}

/** One entry of the calendar view; `kind` decides whether the page offers to delete it. */
export interface ViewEvent {
  id: string;
  kind: "block" | "appointment";
  title: string;
  startTime: string;
  endTime: string;
  calendarId?: string;
  assignedUserId?: string;
}

/**
 * HighLevel's calendar API names its team members by user id only (docs/highlevel.md, Calendars),
 * so a person is shown by the calendars they work, and the signed-in user by the name HighLevel's
 * sign-in gave. The last characters of the id tell two people on the same calendar apart.
 */
export async function whoseTime(
  services: Services,
  locationId: string,
  me: { userId: string; userName?: string },
): Promise<Whose> {
  const calendars = await services.blockSlots.calendars(locationId);
  const worksOn = new Map<string, string[]>();
  for (const c of calendars) for (const id of c.userIds) worksOn.set(id, [...(worksOn.get(id) ?? []), c.name]);
  const teamMembers = [...worksOn].map(([id, names]) => ({
    id,
    name:
      id === me.userId && me.userName ? `${me.userName} (you)` : `Team member …${id.slice(-4)} (${names.join(", ")})`,
  }));
  return {
    calendars: calendars.map((c) => ({ id: c.id, name: c.name })),
    teamMembers: teamMembers.sort((a, b) => a.name.localeCompare(b.name)),
  };
}

const view = (event: CalendarEvent): ViewEvent => ({
  id: event.id,
  kind: isAppointment(event) ? "appointment" : "block",
  title: event.title ?? "",
  startTime: event.startTime,
  endTime: event.endTime,
  ...(event.calendarId ? { calendarId: event.calendarId } : {}),
  ...(event.assignedUserId ? { assignedUserId: event.assignedUserId } : {}),
});

/**
 * Appointments and blocks of every calendar and every team member overlapping the window. HighLevel
 * lists events per calendar or per user, never per location, so a user's block (no calendar) is only
 * found by asking for that user; an appointment found both ways is shown once.
 */
export async function eventsIn(
  services: Services,
  locationId: string,
  whose: Whose,
  window: { startTime: number; endTime: number },
): Promise<ViewEvent[]> {
  const lists = await Promise.all([
    ...whose.calendars.map((c) => services.blockSlots.events(locationId, { calendarId: c.id, ...window })),
    ...whose.teamMembers.map((u) => services.blockSlots.events(locationId, { userId: u.id, ...window })),
  ]);
  const byId = new Map<string, ViewEvent>();
  for (const event of lists.flat()) byId.set(event.id, view(event));
  return [...byId.values()].sort((a, b) => Date.parse(a.startTime) - Date.parse(b.startTime));
}
