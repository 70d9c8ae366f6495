import fs from "node:fs";
import path from "node:path";
import { performance } from "node:perf_hooks";
import type {
  AccessTokenRecord,
  Appointment,
  AuthorizationCode,
  BlockSlot,
  RefreshTokenRecord,
  SandboxLocation,
} from "./types";
import type { LocationChanges } from "./world";

/**
 * The part of the sandbox that HighLevel itself would keep across a restart. Recorded requests,
 * refresh-grant counts, faults and rate-limit windows are per run, so they are left out.
 */
export interface DurableState {
  codes: AuthorizationCode[];
  accessTokens: AccessTokenRecord[];
  refreshTokens: RefreshTokenRecord[];
  slots: BlockSlot[];
  installs: Map<string, Date>;
  companyInstalls: Map<string, { installToFutureLocations: boolean }>;
  inactiveLocations: string[];
  userIds: Map<string, string>;
  appointments: Appointment[];
  /** Sub-accounts added since the fixtures (which the file does not hold), and their agency. */
  addedLocations: { companyId: string; location: SandboxLocation }[];
  /** Renames and zone moves made since the fixtures. */
  locationChanges: Map<string, LocationChanges>;
  /** The Ed25519 key webhooks are signed with (PKCS#8 PEM): the app was told its public half. */
  webhookPrivateKey?: string;
}

/** "missing": no file yet; "corrupt": unreadable, moved aside to `<file>.corrupt`, the sandbox starts fresh. */
export type StateFileStatus = "loaded" | "missing" | "corrupt";

/** Version 1 files (before appointments, location changes and the webhook key) still load. */
const VERSION = 2;
const WRITE_DELAY_MS = 200;
/**
 * A save of a 2,000-location agency's tokens takes some 20–40 ms, and the event loop waits for
 * it: the next save waits at least this many times as long as the last one took, so saving never
 * takes more than about a tenth of the sandbox's time, however busy it is.
 */
const DELAY_PER_SAVE_MS = 10;

function serialize(state: DurableState): string {
  const { installs, companyInstalls, userIds, locationChanges, ...rest } = state;
  const data = {
    version: VERSION,
    ...rest,
    installs: Object.fromEntries(installs),
    companyInstalls: Object.fromEntries(companyInstalls),
    userIds: Object.fromEntries(userIds),
    locationChanges: Object.fromEntries(locationChanges),
  };
  return `${JSON.stringify(data, null, 2)}\n`;
}

type Raw = Record<string, unknown>;

function object(value: unknown, what: string): Raw {
  if (!value || typeof value !== "object" || Array.isArray(value)) throw new Error(`${what} is not an object`);
  return value as Raw;
}

function list(data: Raw, key: string, idField: string): Raw[] {
  const value = data[key];
  if (!Array.isArray(value)) throw new Error(`${key} is not a list`);
  return value.map((item, i) => {
    const entry = object(item, `${key}[${i}]`);
    if (typeof entry[idField] !== "string") throw new Error(`${key}[${i}].${idField} is not a string`);
    return entry;
  });
}

// An invalid date would make a token never expire (NaN compares false), so it fails the whole file.
function date(value: unknown, what: string): Date {
  const parsed = typeof value === "string" ? new Date(value) : undefined;
  if (!parsed || Number.isNaN(parsed.getTime())) throw new Error(`${what} is not a date`);
  return parsed;
}

function withExpiry<T>(items: Raw[], key: string): T[] {
  return items.map((item, i) => ({ ...item, expiresAt: date(item.expiresAt, `${key}[${i}].expiresAt`) }) as T);
}

function parse(text: string): DurableState {
  const data = object(JSON.parse(text), "the file");
  if (data.version !== 1 && data.version !== VERSION) throw new Error(`version ${String(data.version)} is unknown`);
  const installs = Object.entries(object(data.installs, "installs")).map(([id, at]) => [id, date(at, id)] as const);
  const inactive = data.inactiveLocations;
  if (!Array.isArray(inactive) || inactive.some((id) => typeof id !== "string"))
    throw new Error("inactiveLocations is not a list of ids");
  return {
    codes: withExpiry(list(data, "codes", "code"), "codes"),
    accessTokens: withExpiry(list(data, "accessTokens", "token"), "accessTokens"),
    refreshTokens: withExpiry(list(data, "refreshTokens", "token"), "refreshTokens"),
    slots: list(data, "slots", "id") as unknown as BlockSlot[],
    installs: new Map(installs),
    companyInstalls: new Map(
      Object.entries(object(data.companyInstalls, "companyInstalls")).map(([id, v]) => {
        const install = object(v, id);
        return [id, { installToFutureLocations: install.installToFutureLocations === true }];
      }),
    ),
    inactiveLocations: inactive as string[],
    userIds: new Map(Object.entries(object(data.userIds, "userIds")).map(([id, user]) => [id, String(user)])),
    appointments: (data.appointments === undefined ? [] : list(data, "appointments", "id")) as unknown as Appointment[],
    addedLocations: (data.addedLocations === undefined
      ? []
      : list(data, "addedLocations", "companyId")) as unknown as DurableState["addedLocations"],
    locationChanges: new Map(
      Object.entries(data.locationChanges === undefined ? {} : object(data.locationChanges, "locationChanges")).map(
        ([id, v]) => [id, object(v, id) as LocationChanges],
      ),
    ),
    ...(typeof data.webhookPrivateKey === "string" ? { webhookPrivateKey: data.webhookPrivateKey } : {}),
  };
}

/** Reads a state file; never throws, so a damaged file cannot keep the demo from starting. */
export function readStateFile(file: string): { status: StateFileStatus; state?: DurableState } {
  let text: string;
  try {
    text = fs.readFileSync(file, "utf8");
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return { status: "missing" };
    process.emitWarning(`Sandbox state ${file} is unreadable (${(err as Error).message}); starting fresh.`);
    return { status: "corrupt" };
  }
  try {
    return { status: "loaded", state: parse(text) };
  } catch (err) {
    // Kept aside rather than overwritten by the next save, so whatever broke it can be looked at.
    const aside = `${file}.corrupt`;
    try {
      fs.renameSync(file, aside);
    } catch {
      /* the warning below still tells the user */
    }
    process.emitWarning(
      `Sandbox state ${file} is corrupt (${(err as Error).message}); moved to ${aside}, starting fresh.`,
    );
    return { status: "corrupt" };
  }
}

/** Writes the durable state to `file` shortly after changes, atomically, and only when it differs. */
export class StateFileWriter {
  private timer?: NodeJS.Timeout;
  private written: string;
  private closed = false;
  private lastSaveMs = 0;

  constructor(
    private readonly file: string,
    private readonly snapshot: () => DurableState,
  ) {
    this.written = serialize(snapshot());
  }

  /**
   * Not a sliding debounce: a steady stream of changes (a bulk job) would postpone the write
   * forever. The first change starts the timer and later ones ride along.
   */
  schedule(): void {
    if (this.closed || this.timer) return;
    this.timer = setTimeout(() => this.flush(), Math.max(WRITE_DELAY_MS, this.lastSaveMs * DELAY_PER_SAVE_MS));
    // A pending write must not keep a test run or a stopping process alive; close() flushes.
    this.timer.unref();
  }

  flush(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    const started = performance.now();
    const text = serialize(this.snapshot());
    this.lastSaveMs = performance.now() - started;
    if (text === this.written) return;
    const tmp = `${this.file}.tmp`;
    try {
      fs.mkdirSync(path.dirname(this.file), { recursive: true });
      // Tokens are secrets; rename makes a crash mid-write leave the previous file whole.
      fs.writeFileSync(tmp, text, { mode: 0o600 });
      fs.renameSync(tmp, this.file);
      this.written = text;
      this.lastSaveMs = performance.now() - started;
    } catch (err) {
      process.emitWarning(`Could not save sandbox state to ${this.file}: ${(err as Error).message}`);
    }
  }

  /** Final write; later changes (a test poking a closed sandbox) are not saved. */
  close(): void {
    this.flush();
    this.closed = true;
  }
}
