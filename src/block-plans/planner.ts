import type { BlockSlotService } from "../block-slots/service";
import { AppError } from "../errors";
import { freesTime, isAppointment } from "../highlevel/calendars";
import { mapLimit } from "../util/concurrency";
import { occurrences, place } from "./schedule";
import { MAX_BLOCKS, type Conflict, type PlanBody } from "./schemas";
import { targetKey, type ResolvedTarget } from "./targets";

/** One block a plan wants: where, which occurrence, and the times sent to HighLevel. */
export interface PlannedBlock {
  /** Location, calendar or user, occurrence day: stable across changes of the plan's hours. */
  key: string;
  locationId: string;
  calendarId?: string;
  assignedUserId?: string;
  /** The occurrence's local start, e.g. 2026-03-09T12:00. */
  occurrence: string;
  startTime: string;
  endTime: string;
  title: string;
}

/** Calendars (or users) whose events are read side by side. */
const CONCURRENCY = 8;

const tooLarge = (count: string) =>
  new AppError(
    "plan_too_large",
    `The plan makes ${count} blocks; a plan may make at most ${MAX_BLOCKS.toLocaleString("en")}.`,
  );

/**
 * Every block of the plan: the schedule's occurrences (local time) on every target, each placed in
 * its target's zone. Refused with `plan_too_large` before anything is placed when there are too many.
 */
export async function expand(body: PlanBody, targets: ResolvedTarget[]): Promise<PlannedBlock[]> {
  const list = await occurrences(body.schedule, MAX_BLOCKS + 1);
  const count = list.length * targets.length;
  if (count > MAX_BLOCKS) {
    throw tooLarge(
      list.length > MAX_BLOCKS ? `more than ${MAX_BLOCKS.toLocaleString("en")}` : count.toLocaleString("en"),
    );
  }
  const placed = new Map<string, ReturnType<typeof place>>();
  const blocks: PlannedBlock[] = [];
  for (const target of targets) {
    for (const occurrence of list) {
      const memo = `${target.zone} ${occurrence.key}`;
      if (!placed.has(memo)) placed.set(memo, place(occurrence, target.zone));
      const times = placed.get(memo);
      if (!times) continue;
      blocks.push({
        key: `${targetKey(target)}|${occurrence.key}`,
        locationId: target.locationId,
        ...(target.calendarId ? { calendarId: target.calendarId } : { assignedUserId: target.assignedUserId }),
        occurrence: occurrence.local,
        ...times,
        title: body.title,
      });
    }
  }
  return blocks;
}

/**
 * Appointments and blocks already in the plan's windows: one `GET /calendars/events` per calendar
 * (or user) over the plan's whole span, not one per occurrence. The plan's own blocks (`ownIds`)
 * and cancelled appointments are not conflicts.
 */
export async function findConflicts(
  slots: BlockSlotService,
  blocks: PlannedBlock[],
  ownIds: ReadonlySet<string> = new Set(),
): Promise<Conflict[]> {
  const groups = new Map<string, PlannedBlock[]>();
  for (const block of blocks) {
    const key = targetKey(block);
    const group = groups.get(key);
    if (group) group.push(block);
    else groups.set(key, [block]);
  }
  const found = await mapLimit([...groups.values()], CONCURRENCY, async (group) => {
    const first = group[0]!;
    const spans = group.map((b) => [Date.parse(b.startTime), Date.parse(b.endTime)] as const);
    const events = await slots.events(first.locationId, {
      ...(first.calendarId ? { calendarId: first.calendarId } : { userId: first.assignedUserId }),
      startTime: Math.min(...spans.map(([s]) => s)),
      endTime: Math.max(...spans.map(([, e]) => e)),
    });
    return events.flatMap((event): Conflict[] => {
      if (ownIds.has(event.id) || freesTime(event.appointmentStatus)) return [];
      const [from, to] = [Date.parse(event.startTime), Date.parse(event.endTime)];
      if (!spans.some(([s, e]) => from < e && to > s)) return [];
      return [
        {
          locationId: first.locationId,
          ...(first.calendarId ? { calendarId: first.calendarId } : { assignedUserId: first.assignedUserId }),
          startTime: event.startTime,
          endTime: event.endTime,
          eventId: event.id,
          kind: isAppointment(event) ? "appointment" : "block",
          ...(event.title ? { title: event.title } : {}),
        },
      ];
    });
  });
  return found.flat();
}
