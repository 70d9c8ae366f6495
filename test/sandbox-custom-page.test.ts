import request from "supertest";
import { decryptSsoPayload } from "../src/sso/decrypt";
import { AGENCY, sandboxesFor } from "./support/sandbox-fixtures";

const started = sandboxesFor([AGENCY]);

describe("the sandbox's HighLevel screen around the custom page (for the demo)", () => {
  it("frames the app's /app and answers REQUEST_USER_DATA with a payload the app's secret opens", async () => {
    const sandbox = await started({});
    await request(sandbox.url).get("/_sandbox/app").expect(404);
    sandbox.state.customPage = { appUrl: "http://localhost:3000", ssoKey: "demo-secret" };
    const location = sandbox.state.companies[0]!.locations[0]!;
    const res = await request(sandbox.url).get("/_sandbox/app").query({ locationId: location.id }).expect(200);
    expect(res.text).toContain('src="http://localhost:3000/app"');
    const payload = /payload: "([^"]+)"/.exec(res.text)![1]!;
    expect(decryptSsoPayload(payload, "demo-secret")).toMatchObject({
      activeLocation: location.id,
      companyId: sandbox.state.companies[0]!.id,
    });
    await request(sandbox.url).get("/_sandbox/app").query({ locationId: "nowhere" }).expect(404);
  });
});
