import type { Db } from "../db/client";
import type { WebhookEvent } from "../generated/prisma/client";
import { asAppError } from "../errors";
import type { LocationDirectory } from "../locations/directory";
import { LOCATION_EVENTS, locationPayload, readPayload } from "./payloads";
import type { HandlerResult, WebhookHandler } from "./processor";

/**
 * LocationUpdate and LocationCreate (agency-level apps; docs/highlevel.md, "Webhooks"). The payload
 * names the location but carries no time zone, so a location the app is connected to is read
 * again (its own token, its own rate budget). A location the app is not installed on is left
 * alone: a new sub-account of an agency that installs to future locations arrives as INSTALL.
 */
export function locationEventHandlers(deps: { db: Db; directory: LocationDirectory }): Record<string, WebhookHandler> {
  const { db, directory } = deps;

  async function changed(event: WebhookEvent): Promise<HandlerResult> {
    const { id, name } = readPayload(locationPayload, event.payload);
    if (!id) return { status: "ignored", outcome: `${event.type} without the location's id.` };
    const row = await db.location.findUnique({ where: { id }, select: { status: true } });
    if (!row) return { status: "ignored", outcome: "Not installed: nothing to do." };
    if (name) await db.location.update({ where: { id }, data: { name } });
    if (row.status !== "active") {
      return {
        status: "processed",
        outcome: `Name kept; the location is ${row.status}, so its record is not read again.`,
      };
    }
    try {
      const details = await directory.refresh(id);
      return {
        status: "processed",
        outcome: `Read again: "${details.name ?? name ?? id}", time zone ${details.timezone ?? "not given"}.`,
      };
    } catch (err) {
      const error = asAppError(err);
      if (error.retryable) throw err;
      return {
        status: "processed",
        outcome: `Name kept; HighLevel's record not read (${error.message}).`,
      };
    }
  }

  return Object.fromEntries([...LOCATION_EVENTS].map((type) => [type, changed]));
}
