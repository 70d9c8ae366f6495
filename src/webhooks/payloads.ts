import { z } from "zod";

/**
 * HighLevel's webhook payloads, as far as the app reads them (docs/highlevel.md, "Webhooks").
 * Lenient on purpose: a delivery was signed by HighLevel, so a field of an unexpected type is
 * treated as absent rather than refusing the whole delivery.
 */
const text = z.string().min(1).optional().catch(undefined);

/** The envelope every delivery shares (the inbox stores these beside the payload). */
export const envelope = z.looseObject({
  type: text,
  webhookId: text,
  locationId: text,
  companyId: text,
  /** LocationCreate / LocationUpdate: the location itself. */
  id: text,
  timestamp: z.unknown().optional(),
});

/** Events whose `id` is a location's. */
export const LOCATION_EVENTS = new Set(["LocationCreate", "LocationUpdate"]);

export const installPayload = z.looseObject({ companyId: text, locationId: text, companyName: text });
export type InstallPayload = z.infer<typeof installPayload>;

export const uninstallPayload = z.looseObject({ companyId: text, locationId: text });

/** AppointmentCreate / AppointmentUpdate / AppointmentDelete. */
export const appointmentPayload = z.looseObject({
  locationId: text,
  appointment: z
    .looseObject({
      id: text,
      locationId: text,
      calendarId: text,
      assignedUserId: text,
      startTime: text,
      endTime: text,
      appointmentStatus: text,
      dateUpdated: text,
    })
    .catch({}),
});

/** LocationCreate / LocationUpdate: the location's own id is `id`. */
export const locationPayload = z.looseObject({ id: text, companyId: text, name: text });

/** The payload as `schema` reads it; an unreadable one reads as empty. */
export function readPayload<T>(schema: z.ZodType<T>, payload: unknown): T {
  const result = schema.safeParse(payload);
  return result.success ? result.data : schema.parse({});
}
