import type { Logger } from "pino";
import type { Db } from "../db/client";
import { asAppError } from "../errors";
import type { DetailsRef } from "../install/records";
import { QUEUES, type JobQueue, type WorkOptions } from "../jobs/queue";
import { rateLimitWait } from "../jobs/rate-limited";
import type { LocationDirectory } from "./directory";

/**
 * Reads a newly connected location's name and time zone from HighLevel with its own token (its own
 * rate budget, not the agency's, which the mints of a big install are spending). Queued, so a slow
 * or failing HighLevel delays a name, never an install.
 */
export class LocationDetailsWorker {
  constructor(
    private readonly db: Db,
    private readonly directory: LocationDirectory,
    private readonly queue: JobQueue,
    private readonly log: Logger,
  ) {}

  start(options: WorkOptions): Promise<void> {
    return this.queue.workEach<DetailsRef>(QUEUES.locationDetails, options, (ref) => this.process(ref), {
      log: this.log,
      message: "reading a location's name and time zone will be retried",
      fields: ({ locationId }) => ({ locationId }),
    });
  }

  /** Throws to have the queue try again later. */
  async process({ locationId, requestedAt }: DetailsRef): Promise<void> {
    const row = await this.db.location.findUnique({
      where: { id: locationId },
      select: { status: true, source: true, companyId: true, detailsAt: true },
    });
    // Read since it was asked for (the install page read it at once, or a webhook did): done.
    if (!row || (row.detailsAt && row.detailsAt >= new Date(requestedAt))) return;
    // A location its agency could not connect has no token: the agency's reads it, once.
    const viaAgency = row.status === "failed" && row.source === "agency" && row.companyId;
    if (row.status !== "active" && !viaAgency) return;
    try {
      if (viaAgency) await this.directory.refreshWithAgency(locationId, viaAgency);
      else await this.directory.refresh(locationId);
    } catch (err) {
      const wait = rateLimitWait(err);
      if (wait) {
        await this.queue.send(QUEUES.locationDetails, { locationId, requestedAt }, { startAfter: wait.resumesAt });
        return;
      }
      const error = asAppError(err);
      if (error.retryable) throw err;
      // The name stays as it was (or the id shows); a later LocationUpdate or install reads it again.
      this.log.warn({ locationId, reason: error.message }, "location details could not be read");
    }
  }
}
