import { isoWithOffset } from "../block-slots/schemas";
import type { WebhookEvent } from "../generated/prisma/client";
import { freesTime } from "../highlevel/calendars";
import { appointmentPayload, readPayload } from "../webhooks/payloads";

/** The deliveries the appointment mirror handles. */
export const MIRRORED_TYPES = new Set(["AppointmentCreate", "AppointmentUpdate", "AppointmentDelete"]);

/** What one appointment delivery says, as the mirror (src/rules/mirror.ts) reads it. */
export interface Appointment {
  id: string;
  locationId: string;
  calendarId?: string;
  assignedUserId?: string;
  startTime?: string;
  endTime?: string;
  /** `endTime` when it is a usable time: kept so housekeeping knows when the appointment is over. */
  endsAt?: Date;
  freed: boolean;
  /** How recent this state of the appointment is (see `versionOf`). */
  version: Date;
  /**
   * No create goes out after this (epoch ms): the appointment's claim runs out a little later, and
   * another worker then looks for the block before making it, which must not race a create in flight.
   */
  sendBy?: number;
}

/** Later than any change: nothing follows an appointment's deletion. */
const DELETED = new Date("9999-12-31T00:00:00Z");

/**
 * Deliveries can arrive out of order (HighLevel resends one it was answered 429 for some minutes
 * later) and several can share one receipt time (one commit stores a batch), so they are ordered
 * by HighLevel's own `dateUpdated`; by receipt only when a delivery carries none.
 */
function versionOf(event: WebhookEvent, dateUpdated: string | undefined): Date {
  if (event.type === "AppointmentDelete") return DELETED;
  const at = dateUpdated ? Date.parse(dateUpdated) : NaN;
  return Number.isFinite(at) ? new Date(at) : event.receivedAt;
}

export function readAppointment(event: WebhookEvent): Appointment | undefined {
  const p = readPayload(appointmentPayload, event.payload);
  const a = p.appointment;
  const id = a.id;
  const locationId = p.locationId ?? a.locationId;
  if (!id || !locationId) return undefined;
  const end = isoWithOffset.safeParse(a.endTime);
  return {
    id,
    locationId,
    calendarId: a.calendarId,
    assignedUserId: a.assignedUserId,
    startTime: a.startTime,
    endTime: a.endTime,
    ...(end.success ? { endsAt: new Date(end.data) } : {}),
    freed: event.type === "AppointmentDelete" || freesTime(a.appointmentStatus),
    version: versionOf(event, a.dateUpdated),
  };
}
