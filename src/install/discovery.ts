import type { Logger } from "pino";
import type { Db } from "../db/client";
import { asAppError } from "../errors";
import type { HighLevelOAuth } from "../highlevel/oauth";
import { QUEUES, type JobQueue, type WorkOptions } from "../jobs/queue";
import type { TokenService } from "../tokens/service";
import type { DiscoveryRef, InstallRecords } from "./records";

/**
 * An agency install whose code exchange did not name its locations: lists them from HighLevel
 * (`/oauth/installedLocations`, a page per hundred, paced under the agency's limit) and queues a mint
 * for each. Out of the browser's request, so the callback answers at once whatever the agency's size.
 */
export class InstallDiscovery {
  constructor(
    private readonly db: Db,
    private readonly tokens: TokenService,
    private readonly oauth: HighLevelOAuth,
    private readonly records: InstallRecords,
    private readonly queue: JobQueue,
    private readonly log: Logger,
  ) {}

  start(options: WorkOptions): Promise<void> {
    return this.queue.workEach<DiscoveryRef>(QUEUES.installDiscovery, options, (ref) => this.process(ref), {
      log: this.log,
      message: "listing an agency's locations will be retried",
      fields: ({ installId }) => ({ installId }),
    });
  }

  /** Throws to have the queue try again later; a refusal is recorded on the install. */
  async process({ installId }: DiscoveryRef): Promise<void> {
    const install = await this.db.install.findUnique({ where: { id: installId } });
    if (!install?.companyId || install.locationsKnownAt || install.lastError) return;
    const companyId = install.companyId;
    if (install.origin === "webhook") {
      // The browser's code exchange of the same consent, once it lands, covers the agency itself.
      const covered = await this.records.latestSince(install.startedAt, { companyId });
      if (covered) {
        await this.db.install.update({ where: { id: installId }, data: { locationsKnownAt: new Date() } });
        return;
      }
    }
    try {
      const listed = await this.tokens.withCompanyToken(companyId, (token) =>
        this.oauth.listInstalledLocations(token, companyId),
      );
      const queued = await this.db.$transaction((tx) => this.records.connect(tx, installId, companyId, listed), {
        timeout: 30_000,
      });
      this.log.info({ installId, companyId, locations: listed.length, queued }, "agency's locations listed");
    } catch (err) {
      const error = asAppError(err);
      if (error.retryable) throw err;
      if (error.code === "internal_error")
        this.log.error({ err, installId }, "listing an agency's locations failed: a bug");
      await this.db.install.update({
        where: { id: installId },
        data: { lastError: `Could not list the agency's locations: ${error.message}` },
      });
    }
  }
}
