import type { InstallProgressView } from "./progress";

/** HighLevel lets an agency's token make 100 requests per 10 s: about ten mints a second. */
const MINTS_PER_SECOND = 9;

export interface ProgressWords {
  headline: string;
  summary: string;
  /** The panel's colour: done and fine, done with failures, or still at work. */
  tone: "ok" | "bad" | "working";
  /** Whether the page should look again for news. */
  live: boolean;
}

const number = (n: number) => n.toLocaleString("en-US");
const plural = (n: number, one: string, many = `${one}s`) => `${number(n)} ${n === 1 ? one : many}`;

function eta(remaining: number): string {
  const seconds = Math.ceil(remaining / MINTS_PER_SECOND);
  if (seconds < 60) return "less than a minute";
  const minutes = Math.round(seconds / 60);
  return minutes === 1 ? "about a minute" : `about ${minutes} minutes`;
}

/**
 * The words of an install's page, for the server's render and the page's script alike (the JSON
 * carries them), so both say the same thing.
 */
export function describeProgress(p: InstallProgressView): ProgressWords {
  const { counts } = p;
  const failed = counts.failed
    ? `; ${plural(counts.failed, "sub-account")} could not be connected (why is listed below)`
    : "";
  if (p.kind === "location") {
    const only = p.locations[0];
    const name = only?.name ?? "The sub-account";
    if (only?.status === "failed") {
      return { headline: "Sub-account not connected", summary: only.error ?? "", tone: "bad", live: false };
    }
    return { headline: "Sub-account installed", summary: `${name} is connected.`, tone: "ok", live: false };
  }
  switch (p.state) {
    case "listing":
      return {
        headline: "Installing for your agency…",
        summary: "Asking HighLevel which sub-accounts the app was installed on. This page updates by itself.",
        tone: "working",
        live: true,
      };
    case "listing_failed":
      return {
        headline: "Agency connected, sub-accounts not listed",
        summary: `${p.error ?? "HighLevel did not list the agency's sub-accounts."} Install the app again to retry.`,
        tone: "bad",
        live: false,
      };
    case "connecting":
      return {
        headline: "Connecting your agency's sub-accounts…",
        summary:
          `${number(counts.connected)} of ${plural(counts.total, "sub-account")} connected${failed}. ` +
          `${number(counts.connecting)} to go: HighLevel lets the app connect about ${MINTS_PER_SECOND * 10} every ` +
          `10 seconds, so this takes ${eta(counts.connecting)}. You can close this page; it carries on without you.`,
        tone: "working",
        live: true,
      };
    case "done":
      return {
        headline: counts.failed ? "Agency installed, with some sub-accounts not connected" : "Agency installed",
        summary:
          counts.total === 0
            ? "HighLevel reported no sub-accounts with this app installed yet. New ones are connected when HighLevel announces their install."
            : `${plural(counts.connected, "sub-account")} connected${failed}.`,
        tone: counts.failed ? "bad" : "ok",
        live: false,
      };
  }
}
