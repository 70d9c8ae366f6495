/**
 * How the console words and shows things. Statuses get plain names and a tone (the badge colour);
 * the stored word stays visible in filters so operators can match it with the API's answers.
 */
export type Tone = "good" | "bad" | "warn" | "neutral" | "info";

export interface Label {
  text: string;
  tone: Tone;
}

export const INSTALL_STATUS: Record<string, Label> = {
  connecting: { text: "Connecting", tone: "info" },
  active: { text: "Connected", tone: "good" },
  reauthorization_required: { text: "Needs reinstall", tone: "bad" },
  inactive: { text: "Inactive", tone: "warn" },
  uninstalled: { text: "Uninstalled", tone: "neutral" },
  failed: { text: "Could not connect", tone: "bad" },
};

/** The status as the end of a sentence about sub-accounts: "… that are connecting", "No sub-account needs a reinstall". */
export const INSTALL_STATUS_PHRASE: Record<string, { one: string; many: string }> = {
  connecting: { one: "is connecting", many: "are connecting" },
  active: { one: "is connected", many: "are connected" },
  reauthorization_required: { one: "needs a reinstall", many: "need a reinstall" },
  inactive: { one: "is inactive", many: "are inactive" },
  uninstalled: { one: "is uninstalled", many: "are uninstalled" },
  failed: { one: "could not connect", many: "could not connect" },
};

export const JOB_STATUS: Record<string, Label> = {
  queued: { text: "Queued", tone: "neutral" },
  running: { text: "Running", tone: "info" },
  done: { text: "Done", tone: "good" },
  done_with_errors: { text: "Done with errors", tone: "bad" },
  cancelled: { text: "Cancelled", tone: "neutral" },
};

export const PLAN_STATUS: Record<string, Label> = {
  applying: { text: "Applying", tone: "info" },
  applied: { text: "Applied", tone: "good" },
  applied_with_errors: { text: "Applied with errors", tone: "bad" },
  deleting: { text: "Removing", tone: "info" },
  deleted: { text: "Removed", tone: "neutral" },
  /** Not an API status: a deleted plan some of whose blocks could not be removed. */
  deleted_with_errors: { text: "Removed with errors", tone: "bad" },
};

/** The label key of a plan's status: a removal that left blocks behind is not shown as done. */
export const planState = (plan: { status: string; counts: { failed: number } }): string =>
  plan.status === "deleted" && plan.counts.failed > 0 ? "deleted_with_errors" : plan.status;

export const PLAN_BLOCK_STATUS: Record<string, Label> = {
  pending: { text: "Pending", tone: "info" },
  created: { text: "Created", tone: "good" },
  failed: { text: "Failed", tone: "bad" },
  removed: { text: "Removed", tone: "neutral" },
};

export const WEBHOOK_STATUS: Record<string, Label> = {
  received: { text: "Waiting", tone: "info" },
  processed: { text: "Processed", tone: "good" },
  ignored: { text: "Ignored", tone: "neutral" },
  failed: { text: "Failed", tone: "bad" },
};

export const JOB_SOURCE: Record<string, string> = {
  api: "API",
  csv: "CSV upload",
  trigger: "Trigger webhook",
};

export const label = (labels: Record<string, Label>, value: string): Label =>
  labels[value] ?? { text: value, tone: "neutral" };

/** `2030-05-01 12:00:00 UTC`: one unambiguous clock for operators in any time zone. */
export function utc(date: Date): string {
  return `${date.toISOString().slice(0, 19).replace("T", " ")} UTC`;
}

/** A short hint beside a time: "in 3 h", "5 min ago". */
export function relative(date: Date, now = Date.now()): string {
  const seconds = Math.round((date.getTime() - now) / 1000);
  // A record stamped by another process whose clock runs a little ahead (or a time rounded up) is
  // still something that just happened, not a promise about the future.
  if (seconds > -60 && seconds <= 5) return "just now";
  const abs = Math.abs(seconds);
  const amount =
    abs < 60
      ? "less than a minute"
      : abs < 3600
        ? `${Math.floor(abs / 60)} min`
        : abs < 2 * 86400
          ? `${Math.floor(abs / 3600)} h`
          : `${Math.floor(abs / 86400)} days`;
  return seconds >= 0 ? `in ${amount}` : `${amount} ago`;
}

export const plural = (n: number, one: string, many = `${one}s`) => `${n} ${n === 1 ? one : many}`;

/** What a key reaches, by name when the app knows it (the id only until HighLevel has named it). */
export function scopeText(
  principal: { scope: string; companyId?: string; locationId?: string },
  name?: string,
): string {
  if (principal.scope === "company") return `agency ${name ?? principal.companyId}`;
  if (principal.scope === "location") return `location ${name ?? principal.locationId}`;
  return "full access";
}

/** A console address with the given query, leaving out empty values. */
export function href(path: string, query: Record<string, string | number | undefined>): string {
  const params = new URLSearchParams();
  for (const [k, v] of Object.entries(query)) if (v !== undefined && v !== "") params.set(k, String(v));
  const qs = params.toString();
  return qs ? `${path}?${qs}` : path;
}

/** Everything the views use, passed to every console render. */
export const present = {
  INSTALL_STATUS,
  INSTALL_STATUS_PHRASE,
  JOB_STATUS,
  PLAN_STATUS,
  planState,
  PLAN_BLOCK_STATUS,
  WEBHOOK_STATUS,
  JOB_SOURCE,
  label,
  utc,
  relative,
  plural,
  href,
};
