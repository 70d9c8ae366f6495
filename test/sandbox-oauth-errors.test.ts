/** The two shapes a token endpoint refuses in: HighLevel's own and RFC 6749's. */
import request from "supertest";
import { AGENCY, exchange, tokenRequest, sandboxesFor } from "./support/sandbox-fixtures";

const sandbox = sandboxesFor([AGENCY]);

describe("token endpoint refusals", () => {
  it("HighLevel's {statusCode, message} by default", async () => {
    const sb = await sandbox();
    const res = await tokenRequest(sb, { grant_type: "refresh_token", refresh_token: "spent" }).expect(400);
    expect(res.body).toEqual({ statusCode: 400, message: "Invalid grant: refresh token is invalid" });
  });

  it("RFC 6749 {error, error_description} when asked, for a refresh token and a code alike", async () => {
    const sb = await sandbox({ oauthErrorStyle: "rfc6749" });
    const { refresh_token } = await exchange(sb, sb.state.issueCode({ locationId: "loc-a" }));
    await tokenRequest(sb, { grant_type: "refresh_token", refresh_token }).expect(200);
    const reused = await tokenRequest(sb, { grant_type: "refresh_token", refresh_token }).expect(400);
    expect(reused.body).toEqual({ error: "invalid_grant", error_description: "refresh token is invalid" });
    const code = await tokenRequest(sb, { grant_type: "authorization_code", code: "never-issued" }).expect(400);
    expect(code.body).toEqual({ error: "invalid_grant", error_description: "authorization code is invalid" });
    const client = await tokenRequest(sb, {
      client_secret: "wrong",
      grant_type: "refresh_token",
      refresh_token,
    }).expect(401);
    expect(client.body).toEqual({ error: "invalid_client", error_description: "client is invalid" });
  });

  it("switches at run time, through the state or the control route", async () => {
    const sb = await sandbox();
    sb.state.oauthErrorStyle = "rfc6749";
    const rfc = await tokenRequest(sb, { grant_type: "refresh_token", refresh_token: "x" }).expect(400);
    expect(rfc.body.error).toBe("invalid_grant");
    const settings = await request(sb.url)
      .patch("/_sandbox/settings")
      .send({ oauthErrorStyle: "highlevel" })
      .expect(200);
    expect(settings.body.oauthErrorStyle).toBe("highlevel");
    const highLevel = await tokenRequest(sb, { grant_type: "refresh_token", refresh_token: "x" }).expect(400);
    expect(highLevel.body.message).toBe("Invalid grant: refresh token is invalid");
    await request(sb.url).patch("/_sandbox/settings").send({ oauthErrorStyle: "oauth1" }).expect(400);
  });

  it("'Location is not active' stays HighLevel's own answer in either style: it is temporary, not a dead grant", async () => {
    const sb = await sandbox({ oauthErrorStyle: "rfc6749" });
    const { refresh_token } = await exchange(sb, sb.state.issueCode({ locationId: "loc-b" }));
    sb.state.setLocationInactive("loc-b", true);
    const res = await tokenRequest(sb, { grant_type: "refresh_token", refresh_token }).expect(400);
    expect(res.body).toEqual({ statusCode: 400, message: "Location is not active" });
  });
});
