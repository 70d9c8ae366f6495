import { AppointmentBook, type AppointmentEvent } from "./appointments";
import { FaultRegistry, type FaultMatch, type FaultReply } from "./faults";
import { upcomingAppointments } from "./fixture-appointments";
import { OAuthState } from "./oauth-state";
import { readStateFile, StateFileWriter, type DurableState, type StateFileStatus } from "./persistence";
import { RateLimiter } from "./rate-limit";
import type {
  Appointment,
  AppointmentChanges,
  BlockSlot,
  NewAppointment,
  RecordedRequest,
  SandboxLocation,
  SandboxOptions,
} from "./types";
import { futureInstallEvent, locationCreateEvent, locationUpdateEvent } from "./webhook-events";
import { WebhookSender, type WebhookDelivery, type WebhookPayload } from "./webhooks";
import type { FoundLocation, LocationChanges } from "./world";

export { ownerOf, type Grant } from "./oauth-state";

/** Everything the sandbox knows. Tests read and steer it in-process. */
export class SandboxState extends OAuthState {
  /** Where `/_sandbox/app` frames the app's custom page, and its Shared Secret (set by the demo). */
  customPage: { appUrl: string; ssoKey: string } | undefined;
  /** Read on every request, so a benchmark can set it after its set-up. */
  latencyMs: number;
  readonly strictOpenApi: boolean;

  readonly slots = new Map<string, BlockSlot>();
  readonly appointments: AppointmentBook;
  readonly requests: RecordedRequest[] = [];
  readonly faults = new FaultRegistry();
  readonly rateLimiter: RateLimiter;
  readonly webhooks: WebhookSender;
  private readonly locationChanges = new Map<string, LocationChanges>();
  private readonly addedLocations: DurableState["addedLocations"] = [];
  /** Set when options.stateFile is: whether that file was loaded, absent, or corrupt (ignored). */
  readonly stateFileStatus?: StateFileStatus;
  private readonly stateFile?: StateFileWriter;

  constructor(options: SandboxOptions = {}) {
    super(options);
    this.latencyMs = options.latencyMs ?? 0;
    this.strictOpenApi = options.strictOpenApi ?? false;
    this.rateLimiter = new RateLimiter(options.rateLimit);
    this.appointments = new AppointmentBook(this.world, (event, a) => this.appointmentChanged(event, a));
    const saved = options.stateFile ? readStateFile(options.stateFile) : undefined;
    this.webhooks = new WebhookSender({
      url: options.webhookUrl,
      retryDelaysMs: options.webhookRetryDelaysMs,
      privateKeyPem: saved?.state?.webhookPrivateKey,
    });
    if (saved?.state) this.restore(saved.state);
    if (options.stateFile) {
      this.stateFileStatus = saved?.status;
      this.stateFile = new StateFileWriter(options.stateFile, () => this.durable());
    }
    // After the writer exists, so they are saved; and announced by no webhook: they were always there.
    if (options.upcomingAppointments ?? options.companies === undefined) {
      for (const appointment of upcomingAppointments(this.world, this.appointments)) {
        this.appointments.add(appointment, { announce: false });
      }
      this.changed();
    }
  }

  // ---- persistence (options.stateFile) -----------------------------------------------

  /**
   * Something HighLevel would remember changed: save soon. Routes also change records in place
   * (a code used, a slot edited), so the server calls this after every response too.
   */
  changed(): void {
    this.stateFile?.schedule();
  }

  /** Saves pending changes now; called when the sandbox closes. */
  closeStateFile(): void {
    this.stateFile?.close();
  }

  private durable(): DurableState {
    return {
      codes: [...this.codes.values()],
      accessTokens: [...this.accessTokens.values()],
      refreshTokens: [...this.refreshTokens.values()],
      slots: [...this.slots.values()],
      installs: this.installs,
      companyInstalls: this.companyInstalls,
      inactiveLocations: [...this.inactiveLocations],
      userIds: this.userIds,
      appointments: [...this.appointments.byId.values()],
      addedLocations: this.addedLocations,
      locationChanges: this.locationChanges,
      webhookPrivateKey: this.webhooks.privateKeyPem(),
    };
  }

  private restore(saved: DurableState): void {
    for (const code of saved.codes) this.codes.set(code.code, code);
    for (const token of saved.accessTokens) this.accessTokens.set(token.token, token);
    for (const token of saved.refreshTokens) this.refreshTokens.set(token.token, token);
    for (const slot of saved.slots) this.slots.set(slot.id, slot);
    for (const [id, at] of saved.installs) this.installs.set(id, at);
    for (const [id, install] of saved.companyInstalls) this.companyInstalls.set(id, install);
    for (const id of saved.inactiveLocations) this.inactiveLocations.add(id);
    for (const [companyId, userId] of saved.userIds) this.userIds.set(companyId, userId);
    this.appointments.restore(saved.appointments);
    // An agency the fixtures no longer have, or a hand-edited zone: warned about, the rest still loads.
    const tolerant = (what: string, apply: () => unknown) => {
      try {
        apply();
      } catch (err) {
        process.emitWarning(`Sandbox state: ${what} ignored (${(err as Error).message})`);
      }
    };
    for (const { companyId, location } of saved.addedLocations) {
      tolerant(`location ${location.id}`, () => this.insertLocation(companyId, location));
    }
    for (const [id, changes] of saved.locationChanges) {
      tolerant(`change of location ${id}`, () => this.applyLocationChanges(id, changes));
    }
  }

  // ---- sub-accounts and appointments -----------------------------------------------------

  /**
   * The agency adds a sub-account (LocationCreate webhook). The app is installed there only when the
   * agency installed it to all its sub-accounts, future ones included: then an INSTALL follows.
   */
  addLocation(companyId: string, location: SandboxLocation): FoundLocation {
    const found = this.insertLocation(companyId, location);
    const future = this.companyInstalls.get(companyId)?.installToFutureLocations === true;
    if (future) this.installs.set(found.location.id, new Date());
    this.changed();
    this.announce(locationCreateEvent(found));
    if (future) this.announce(futureInstallEvent(this, found.location.id));
    return found;
  }

  private insertLocation(companyId: string, location: SandboxLocation): FoundLocation {
    const found = this.world.addLocation(companyId, location);
    this.addedLocations.push({ companyId, location: found.location });
    return found;
  }

  /** Renames a sub-account or moves its time zone, and announces it (LocationUpdate webhook). */
  updateLocation(locationId: string, changes: LocationChanges): FoundLocation {
    const found = this.applyLocationChanges(locationId, changes);
    this.changed();
    this.announce(locationUpdateEvent(found));
    return found;
  }

  private applyLocationChanges(locationId: string, changes: LocationChanges): FoundLocation {
    const found = this.world.updateLocation(locationId, changes);
    this.locationChanges.set(locationId, { ...this.locationChanges.get(locationId), ...changes });
    return found;
  }

  /** A customer books (AppointmentCreate webhook). */
  addAppointment(input: NewAppointment): Appointment {
    return this.appointments.add(input);
  }

  /** AppointmentUpdate webhook. */
  updateAppointment(id: string, changes: AppointmentChanges): Appointment {
    return this.appointments.update(id, changes);
  }

  /** The appointment stays, with appointmentStatus "cancelled" (AppointmentUpdate webhook). */
  cancelAppointment(id: string): Appointment {
    return this.appointments.cancel(id);
  }

  /** AppointmentDelete webhook. */
  deleteAppointment(id: string): Appointment {
    return this.appointments.delete(id);
  }

  private appointmentChanged(event: AppointmentEvent, appointment: Appointment): void {
    this.changed();
    this.announce({ type: event, locationId: appointment.locationId, appointment: { ...appointment } });
  }

  // ---- webhooks --------------------------------------------------------------------------

  /** Where webhooks go; undefined (the default) sends none. */
  get webhookUrl(): string | undefined {
    return this.webhooks.url;
  }

  set webhookUrl(url: string | undefined) {
    this.webhooks.url = url;
  }

  /** The sandbox's Ed25519 public key, SPKI DER base64 (HIGHLEVEL_WEBHOOK_ED25519_PUBLIC_KEY). */
  get webhookPublicKey(): string {
    return this.webhooks.publicKey;
  }

  /** Signs and delivers one webhook (see webhooks.ts); undefined when no webhookUrl is set. */
  sendWebhook(payload: WebhookPayload): Promise<WebhookDelivery | undefined> {
    return this.webhooks.send(payload);
  }

  protected announce(payload: WebhookPayload): void {
    void this.webhooks.send(payload);
  }

  // ---- for tests -------------------------------------------------------------------

  /** Recorded requests with this method whose path starts with `pathPrefix`. */
  count(method: string, pathPrefix: string): number {
    const m = method.toUpperCase();
    return this.requests.filter((r) => r.method === m && r.path.startsWith(pathPrefix)).length;
  }

  failNext(match: FaultMatch, reply: FaultReply, times = 1): void {
    this.faults.add(match, reply, times);
  }

  blockSlots(locationId?: string): BlockSlot[] {
    return [...this.slots.values()].filter((s) => locationId === undefined || s.locationId === locationId);
  }

  invalidRequests(): RecordedRequest[] {
    return this.requests.filter((r) => !r.valid);
  }

  resetRequests(): void {
    this.requests.length = 0;
    this.refreshGrants.length = 0;
  }
}
