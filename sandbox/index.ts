import http from "node:http";
import type { AddressInfo } from "node:net";
import { createSandboxApp } from "./app";
import { SandboxState } from "./state";
import type { SandboxOptions } from "./types";

export type {
  AccessTokenRecord,
  Appointment,
  AppointmentChanges,
  AppointmentStatus,
  AuthorizationCode,
  BlockSlot,
  InstallTarget,
  NewAppointment,
  OAuthErrorStyle,
  RecordedRequest,
  RefreshTokenRecord,
  SandboxCalendar,
  SandboxCompany,
  SandboxLocation,
  SandboxOptions,
  SandboxRateLimitOptions,
  SandboxUser,
  UserType,
} from "./types";
export type { StateFileStatus } from "./persistence";
export type { FaultMatch, FaultReply } from "./faults";
export type { WebhookAttempt, WebhookDelivery, WebhookPayload } from "./webhooks";
export type { LocationChanges } from "./world";
export { AGENCY_TIME_ZONES, buildAgency, DEFAULT_SCOPES, defaultCompanies } from "./fixtures";
export { OPENAPI_OVERRIDES } from "./openapi-overrides";
export { getValidator, OpenApiValidator } from "./openapi-validator";
export { encryptSsoPayload } from "./sso-payload";
export { createSandboxApp, SandboxState };

export interface Sandbox {
  /** http://127.0.0.1:PORT — use it as both the API and the marketplace base URL. */
  url: string;
  state: SandboxState;
  /** The app's settings that point it at this sandbox: its client credentials and both base URLs. */
  appSettings: Record<
    "HIGHLEVEL_CLIENT_ID" | "HIGHLEVEL_CLIENT_SECRET" | "HIGHLEVEL_API_URL" | "HIGHLEVEL_MARKETPLACE_URL",
    string
  >;
  close(): Promise<void>;
}

/** A local HighLevel on 127.0.0.1 (port 0 = any free port). */
export async function startSandbox(options: SandboxOptions & { port?: number } = {}): Promise<Sandbox> {
  const { port = 0, ...sandboxOptions } = options;
  const state = new SandboxState(sandboxOptions);
  const app = createSandboxApp(state);
  const server = http.createServer((req, res) => {
    // Routes change records in place (a code used, a refresh token spent, a slot edited):
    // after each answer, or an aborted one, is where every such change is complete.
    res.once("close", () => state.changed());
    app(req, res);
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, "127.0.0.1", () => resolve());
  });
  const { port: actualPort } = server.address() as AddressInfo;
  const url = `http://127.0.0.1:${actualPort}`;
  return {
    url,
    state,
    appSettings: {
      HIGHLEVEL_CLIENT_ID: state.clientId,
      HIGHLEVEL_CLIENT_SECRET: state.clientSecret,
      HIGHLEVEL_API_URL: url,
      HIGHLEVEL_MARKETPLACE_URL: url,
    },
    close: () =>
      new Promise<void>((resolve, reject) => {
        // Clients keep connections alive: close them, or close() waits for their idle timeout.
        server.close((err) => {
          // Last, so changes made by requests still in flight are kept.
          state.closeStateFile();
          if (err) reject(err);
          else resolve();
        });
        server.closeAllConnections();
      }),
  };
}
