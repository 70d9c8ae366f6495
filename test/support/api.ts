import request from "supertest";
import type { Harness } from "./harness";
import { TEST_API_KEY } from "./harness";

/** supertest calls to the app with an API key (the bootstrap key unless another is given). */
export const apiAs = (h: Harness, key = TEST_API_KEY) => ({
  post: (path: string) => request(h.app).post(path).auth(key, { type: "bearer" }),
  get: (path: string) => request(h.app).get(path).auth(key, { type: "bearer" }),
  put: (path: string) => request(h.app).put(path).auth(key, { type: "bearer" }),
  delete: (path: string) => request(h.app).delete(path).auth(key, { type: "bearer" }),
});

/** Installs a location directly, as a sub-account user clicking through the marketplace would. */
export async function installLocation(h: Harness, locationId: string): Promise<void> {
  await request(h.app)
    .get("/oauth/callback")
    .query({ code: h.sandbox.state.issueCode({ locationId }) })
    .expect(200);
}

/** Installs an agency (company token; its locations are minted). */
export async function installCompany(h: Harness, companyId: string): Promise<void> {
  await request(h.app)
    .get("/oauth/callback")
    .query({ code: h.sandbox.state.issueCode({ companyId }) })
    .expect(200);
}
