import http from "node:http";
import type { AddressInfo } from "node:net";
import {
  ClientRejectedError,
  HighLevelApiError,
  HighLevelUnreachableError,
  InvalidAccessTokenError,
  LocationInactiveError,
} from "../src/highlevel/errors";
import { createHighLevelHttp, send, type HighLevelHttp } from "../src/highlevel/http";
import { freePort } from "../src/util/net";

/**
 * The transport's answers to what can go wrong on the wire. Whether HighLevel may have acted
 * (`requestSent`) decides if a create is looked for before it is sent again, so it must be right.
 */
let server: http.Server | undefined;
let client: HighLevelHttp | undefined;
afterEach(async () => {
  await client?.close();
  await new Promise((r) => (server ? server.close(r) : r(undefined)));
  server = client = undefined;
});

async function serve(handler: http.RequestListener): Promise<string> {
  server = http.createServer(handler);
  await new Promise<void>((r) => server!.listen(0, "127.0.0.1", r));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

const failure = (p: Promise<unknown>) =>
  p.then(
    () => undefined,
    (err: unknown) => err,
  );

it("a refused connection was never sent", async () => {
  client = createHighLevelHttp({ baseUrl: `http://127.0.0.1:${await freePort()}` });
  const err = await failure(send(client, "create block slot", { method: "POST", url: "/x", data: {} }));
  expect(err).toBeInstanceOf(HighLevelUnreachableError);
  expect(err).toMatchObject({ requestSent: false, message: expect.stringContaining("ECONNREFUSED") });
});

it("an answer that never comes may have been acted on, and times out", async () => {
  const url = await serve(() => {}); // reads the request, never answers
  client = createHighLevelHttp({ baseUrl: url, timeoutMs: 300 });
  const err = await failure(send(client, "create block slot", { method: "POST", url: "/x", data: {} }));
  expect(err).toMatchObject({ requestSent: true, message: "create block slot: HighLevel did not answer (timed out)" });
});

it("a connection cut mid-request may have been acted on", async () => {
  const url = await serve((req) => req.socket.destroy());
  client = createHighLevelHttp({ baseUrl: url });
  const err = await failure(send(client, "create block slot", { method: "POST", url: "/x", data: {} }));
  expect(err).toBeInstanceOf(HighLevelUnreachableError);
  expect(err).toMatchObject({ requestSent: true });
});

it("sends JSON and query strings below the base path, and reads plain-text errors", async () => {
  const seen: { url?: string; type?: string; body?: string } = {};
  const url = await serve((req, res) => {
    let body = "";
    req.on("data", (c: Buffer) => (body += c.toString()));
    req.on("end", () => {
      Object.assign(seen, { url: req.url, type: req.headers["content-type"], body });
      res.writeHead(503, { "content-type": "text/plain", "retry-after": "7" }).end("Service Unavailable");
    });
  });
  client = createHighLevelHttp({ baseUrl: `${url}/v2/` });
  const err = await failure(
    send(client, "list", { method: "POST", url: "/calendars", params: { a: "1 2", b: undefined }, data: { x: 1 } }),
  );
  expect(seen).toEqual({ url: "/v2/calendars?a=1+2", type: "application/json", body: '{"x":1}' });
  expect(err).toBeInstanceOf(HighLevelApiError);
  expect(err).toMatchObject({ status: 503, highLevelMessage: "Service Unavailable", retryAfterSeconds: 7 });
});

it("a 401 for a scope the install lacks asks for a reinstall, not a token renewal", async () => {
  const url = await serve((_req, res) => {
    res
      .writeHead(401, { "content-type": "application/json" })
      .end(JSON.stringify({ statusCode: 401, message: "The token is not authorized for this scope." }));
  });
  client = createHighLevelHttp({ baseUrl: url });
  const err = await failure(send(client, "getLocation", { method: "GET", url: "/locations/loc-1" }));
  expect(err).not.toBeInstanceOf(InvalidAccessTokenError);
  expect(err).toMatchObject({ code: "reauthorization_required", retryable: false });
});

it("'Location is not active' is temporary in either shape, even under an invalid_grant code", async () => {
  const url = await serve((_req, res) => {
    res
      .writeHead(400, { "content-type": "application/json" })
      .end(JSON.stringify({ error: "invalid_grant", error_description: "Location is not active" }));
  });
  client = createHighLevelHttp({ baseUrl: url });
  const err = await failure(send(client, "refresh", { method: "POST", url: "/oauth/token", data: "grant_type=x" }));
  expect(err).toBeInstanceOf(LocationInactiveError);
});

it("HighLevel's own 401 from the token endpoint blames the app's credentials, not an access token", async () => {
  const url = await serve((_req, res) => {
    res.writeHead(401, { "content-type": "application/json" }).end(
      JSON.stringify({
        statusCode: 401,
        message: "Invalid client: client credentials are invalid",
        error: "Unauthorized",
      }),
    );
  });
  client = createHighLevelHttp({ baseUrl: url });
  const err = await failure(send(client, "refresh", { method: "POST", url: "/oauth/token", data: "grant_type=x" }));
  expect(err).toBeInstanceOf(ClientRejectedError);
  // Elsewhere a 401 is the access token's.
  const other = await failure(send(client, "getLocation", { method: "GET", url: "/locations/loc-1" }));
  expect(other).toBeInstanceOf(InvalidAccessTokenError);
});

it("an RFC 6749 invalid_client refusal blames the app's credentials, not an access token", async () => {
  const url = await serve((_req, res) => {
    res
      .writeHead(401, { "content-type": "application/json" })
      .end(JSON.stringify({ error: "invalid_client", error_description: "Client authentication failed" }));
  });
  client = createHighLevelHttp({ baseUrl: url });
  const err = await failure(send(client, "refresh", { method: "POST", url: "/oauth/token", data: "grant_type=x" }));
  expect(err).toBeInstanceOf(ClientRejectedError);
  expect(err).not.toBeInstanceOf(InvalidAccessTokenError);
  expect(err).toMatchObject({
    code: "upstream_error",
    retryable: false,
    highLevelMessage: "invalid_client: Client authentication failed",
  });
});
