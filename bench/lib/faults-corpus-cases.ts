import crypto, { type KeyObject } from "node:crypto";
import { API_KEY } from "./stack";

/** One hostile or broken request, and what a correct app answers to it. */
export interface Case {
  name: string;
  method?: string;
  path: string;
  headers?: Record<string, string>;
  body?: string | Buffer;
  /** Default "4xx" with application/problem+json. A number: exactly that status. */
  expect?: "4xx" | number;
  /** A page's refusal: text/html instead of application/problem+json (`check` then applies to it too). */
  html?: boolean;
  /** Accepted input reaches HighLevel by design (e.g. HTML in a title is text, not an attack). */
  reachesHighLevel?: boolean;
  /** Further check of the answer's body (e.g. the title came back byte for byte). */
  check?: (body: string) => boolean;
  /** Done before the measured request, outside its HighLevel-call count (e.g. the first delivery of a replay). */
  setup?: () => Promise<void>;
  /** Done with the answer's body when the answer was as expected (e.g. cancel a job it queued). */
  after?: (body: string) => Promise<void>;
  /** Ask /healthz again and again while this request runs: the slowest answer is the app's longest stall. */
  watchLoop?: boolean;
}

export interface CorpusContext {
  url: string;
  /** The app's Shared Secret for custom pages, to make payloads that decrypt. */
  ssoKey: string;
  /** A company-scoped key for another agency than the one owning loc-0. */
  otherTenantKey: string;
  webhookKey: KeyObject;
}

export const SLOT = {
  calendarId: "cal-1",
  startTime: "2031-06-01T12:00:00+02:00",
  endTime: "2031-06-01T13:00:00+02:00",
  title: "corpus",
};
export const JSON_AUTH = { Authorization: `Bearer ${API_KEY}`, "Content-Type": "application/json" };
const CREATE = "/api/locations/loc-0/block-slots";
const BULK = "/api/block-slots/bulk";
export const json = (v: unknown) => JSON.stringify(v);
const create = (name: string, body: unknown, extra: Partial<Case> = {}): Case => ({
  name,
  method: "POST",
  path: CREATE,
  headers: JSON_AUTH,
  body: typeof body === "string" ? body : json(body),
  ...extra,
});
const bulk = (name: string, items: unknown): Case => ({
  name,
  method: "POST",
  path: BULK,
  headers: JSON_AUTH,
  body: json({ items }),
});
const item = (i: number, over: Record<string, unknown> = {}) => ({
  locationId: `loc-${i % 3}`,
  ...SLOT,
  startTime: new Date(Date.UTC(2032, 0, 1) + i * 3600_000).toISOString(),
  endTime: new Date(Date.UTC(2032, 0, 1) + i * 3600_000 + 1800_000).toISOString(),
  ...over,
});
const csv = (name: string, text: string): Case => ({
  name,
  method: "POST",
  path: BULK,
  headers: { Authorization: `Bearer ${API_KEY}`, "Content-Type": "text/csv" },
  body: text,
});
const HEADER = "locationId,calendarId,assignedUserId,startTime,endTime,title";

/** The corpus: every case must be refused with a 4xx problem, before any call to HighLevel. */
export function corpus(ctx: CorpusContext): Case[] {
  const reused = `corpus-reused-${Date.now()}`;
  const verbatim = (title: string) => (body: string) => (JSON.parse(body) as { title?: string }).title === title;
  const sqlTitle = "'); DROP TABLE locations; --";
  const htmlTitle = `<script>alert("x")</script><img src=x onerror=alert(1)>`;
  return [
    // --- single create: syntax and types
    create("malformed JSON", '{"calendarId": "cal-1",'),
    create("JSON array body", "[1,2,3]"),
    create("JSON null body", "null"),
    create("empty body", ""),
    create("startTime is a number", { ...SLOT, startTime: 1906200000000 }),
    create("calendarId is an array", { ...SLOT, calendarId: ["cal-1"] }),
    create("title is an object", { ...SLOT, title: { $ne: null } }),
    // --- single create: rules
    create("both calendarId and assignedUserId", { ...SLOT, assignedUserId: "user-1" }),
    create("neither calendarId nor assignedUserId", { ...SLOT, calendarId: undefined }),
    create("end before start", { ...SLOT, endTime: "2031-06-01T11:00:00+02:00" }),
    create("end equal to start", { ...SLOT, endTime: SLOT.startTime }),
    create("times without offset", { ...SLOT, startTime: "2031-06-01T12:00:00", endTime: "2031-06-01T13:00:00" }),
    create("date only", { ...SLOT, startTime: "2031-06-01", endTime: "2031-06-02" }),
    create("impossible date (Feb 30)", { ...SLOT, startTime: "2031-02-30T12:00:00Z", endTime: "2031-02-30T13:00:00Z" }),
    create("unknown field", { ...SLOT, color: "red" }),
    create("__proto__ key", `{"__proto__":{"admin":true},${json(SLOT).slice(1)}`),
    // The limit counts characters (code points), not UTF-16 units: 201 emoji is over it, 101 is not.
    create("emoji title over 200 (201 × 😀)", { ...SLOT, title: "😀".repeat(201) }),
    create("accented title over 200 (201 × é)", { ...SLOT, title: "é".repeat(201) }),
    create("body over 100 kB", { ...SLOT, title: "x".repeat(120_000) }),
    create("JSON nested 40,000 deep", `${"[".repeat(40_000)}${"]".repeat(40_000)}`),
    create(
      "NUL character in title, with Idempotency-Key",
      { ...SLOT, title: "nul\u0000byte" },
      {
        headers: { ...JSON_AUTH, "Idempotency-Key": `corpus-nul-${Date.now()}` },
      },
    ),
    // --- ids: injection and traversal
    create("SQL injection in locationId", SLOT, {
      path: `/api/locations/${encodeURIComponent("loc-0' OR '1'='1")}/block-slots`,
    }),
    create("HTML injection in locationId", SLOT, {
      path: `/api/locations/${encodeURIComponent("<script>x</script>")}/block-slots`,
    }),
    create("path traversal in locationId", SLOT, { path: "/api/locations/..%2F..%2Fetc%2Fpasswd/block-slots" }),
    create("locationId of 101 characters", SLOT, { path: `/api/locations/${"a".repeat(101)}/block-slots` }),
    create("SQL injection in calendarId", { ...SLOT, calendarId: "cal-1'; DROP TABLE locations; --" }),
    create("path traversal in calendarId", { ...SLOT, calendarId: "../../oauth/token" }),
    create("location never installed", SLOT, { path: "/api/locations/not-installed-loc/block-slots" }),
    {
      name: "path traversal in eventId (PUT)",
      method: "PUT",
      path: `${CREATE}/..%2F..%2Fadmin`,
      headers: JSON_AUTH,
      body: json(SLOT),
    },
    // The client itself resolves %2E%2E as "..": this reaches DELETE /api/locations/loc-0.
    { name: "eventId %2E%2E (DELETE)", method: "DELETE", path: `${CREATE}/%2E%2E`, headers: JSON_AUTH },
    { name: "eventId with a dot (DELETE)", method: "DELETE", path: `${CREATE}/evt.json`, headers: JSON_AUTH },
    // --- titles are free text: injection strings are stored and shown as they are, not refused
    create(
      "SQL string in title (accepted as text)",
      { ...SLOT, title: sqlTitle },
      {
        expect: 201,
        reachesHighLevel: true,
        check: verbatim(sqlTitle),
      },
    ),
    create(
      "HTML string in title (accepted as text)",
      { ...SLOT, title: htmlTitle },
      {
        expect: 201,
        reachesHighLevel: true,
        check: verbatim(htmlTitle),
      },
    ),
    // --- headers
    create("Idempotency-Key with a space", SLOT, { headers: { ...JSON_AUTH, "Idempotency-Key": "two words" } }),
    create("Idempotency-Key of 256 characters", SLOT, {
      headers: { ...JSON_AUTH, "Idempotency-Key": "k".repeat(256) },
    }),
    create("empty Idempotency-Key", SLOT, { headers: { ...JSON_AUTH, "Idempotency-Key": "" } }),
    create(
      "Idempotency-Key reused with another body",
      { ...SLOT, title: "second" },
      {
        headers: { ...JSON_AUTH, "Idempotency-Key": reused },
        setup: async () => {
          const res = await fetch(ctx.url + CREATE, {
            method: "POST",
            headers: { ...JSON_AUTH, "Idempotency-Key": reused },
            body: json({ ...SLOT, title: "first" }),
          });
          if (res.status !== 201) throw new Error(`first use of the Idempotency-Key answered ${res.status}`);
        },
      },
    ),
    create("text/plain content type", SLOT, { headers: { ...JSON_AUTH, "Content-Type": "text/plain" } }),
    create("form-encoded body", "calendarId=cal-1&startTime=x", {
      headers: { ...JSON_AUTH, "Content-Type": "application/x-www-form-urlencoded" },
    }),
    create("JSON in UTF-16 charset", SLOT, {
      headers: { ...JSON_AUTH, "Content-Type": "application/json; charset=utf-16" },
    }),
    create("Content-Encoding gzip, body not gzip", SLOT, { headers: { ...JSON_AUTH, "Content-Encoding": "gzip" } }),
    create("Content-Encoding unknown", SLOT, { headers: { ...JSON_AUTH, "Content-Encoding": "x-rot13" } }),
    // --- list and edit
    { name: "list without a window", path: `${CREATE}?calendarId=cal-1`, headers: JSON_AUTH },
    {
      name: "list with calendarId and userId",
      path: `${CREATE}?calendarId=c&userId=u&startTime=2031-01-01T00:00:00Z&endTime=2031-01-02T00:00:00Z`,
      headers: JSON_AUTH,
    },
    {
      name: "list window reversed",
      path: `${CREATE}?calendarId=c&startTime=2031-01-02T00:00:00Z&endTime=2031-01-01T00:00:00Z`,
      headers: JSON_AUTH,
    },
    {
      name: "list with an array parameter",
      path: `${CREATE}?calendarId=a&calendarId=b&startTime=2031-01-01T00:00:00Z&endTime=2031-01-02T00:00:00Z`,
      headers: JSON_AUTH,
    },
    {
      name: "edit with end before start",
      method: "PUT",
      path: `${CREATE}/evt1`,
      headers: JSON_AUTH,
      body: json({ ...SLOT, endTime: "2031-06-01T10:00:00Z" }),
    },
    // --- bulk
    bulk("bulk: one bad row among good ones", [
      item(0),
      item(1),
      item(2, { endTime: "2000-01-01T00:00:00Z" }),
      item(3),
    ]),
    bulk("bulk: no items", []),
    bulk("bulk: items is an object", { 0: item(0) }),
    bulk(
      "bulk: 10,001 items",
      Array.from({ length: 10_001 }, (_, i) => item(i)),
    ),
    bulk("bulk: item with an unknown field", [item(0, { priority: "high" })]),
    bulk("bulk: NUL character in a title", [item(0, { title: "nul\u0000byte" })]),
    {
      name: "bulk: body over 5 MB",
      method: "POST",
      path: BULK,
      headers: JSON_AUTH,
      body: json({ items: [item(0, { title: "x".repeat(6 * 1024 * 1024) })] }),
    },
    {
      name: "bulk: text/plain content type",
      method: "POST",
      path: BULK,
      headers: { ...JSON_AUTH, "Content-Type": "text/plain" },
      body: "hello",
    },
    csv("CSV: unclosed quote", `${HEADER}\nloc-0,cal-1,,2032-01-01T00:00:00Z,2032-01-01T01:00:00Z,"open\n`),
    csv("CSV: wrong header", "location,calendar,start,end\nloc-0,cal-1,2032-01-01T00:00:00Z,2032-01-01T01:00:00Z\n"),
    csv("CSV: row with too many cells", `${HEADER}\nloc-0,cal-1,,2032-01-01T00:00:00Z,2032-01-01T01:00:00Z,t,extra\n`),
    csv("CSV: header only", `${HEADER}\n`),
    csv(
      "CSV: both calendar and user in a row",
      `${HEADER}\nloc-0,cal-1,user-1,2032-01-01T00:00:00Z,2032-01-01T01:00:00Z,t\n`,
    ),
    csv("CSV: binary garbage", crypto.randomBytes(2048).toString("latin1")),
    { name: "bulk job id: SQL injection", path: `${BULK}/${encodeURIComponent("' OR 1=1 --")}`, headers: JSON_AUTH },
    { name: "bulk job id: 36 hyphens", path: `${BULK}/${"-".repeat(36)}`, headers: JSON_AUTH },
    { name: "bulk job id: 36 hex digits, no hyphens", path: `${BULK}/${"a".repeat(36)}`, headers: JSON_AUTH },
    {
      name: "bulk job view: unknown items filter",
      path: `${BULK}/00000000-0000-0000-0000-000000000000?items=some`,
      headers: JSON_AUTH,
    },
    // --- API keys
    create("no API key", SLOT, { headers: { "Content-Type": "application/json" }, expect: 401 }),
    create("wrong API key", SLOT, {
      headers: { ...JSON_AUTH, Authorization: "Bearer hlbs_not-a-real-key" },
      expect: 401,
    }),
    create("Basic auth instead of Bearer", SLOT, {
      headers: { ...JSON_AUTH, Authorization: "Basic YWRtaW46YWRtaW4=" },
      expect: 401,
    }),
    create("another tenant's key on loc-0", SLOT, {
      headers: { ...JSON_AUTH, Authorization: `Bearer ${ctx.otherTenantKey}` },
      expect: 403,
    }),
    {
      name: "another tenant's key: list loc-0",
      path: `${CREATE}?calendarId=c&startTime=2031-01-01T00:00:00Z&endTime=2031-01-02T00:00:00Z`,
      headers: { Authorization: `Bearer ${ctx.otherTenantKey}` },
      expect: 403,
    },
    {
      ...bulk("another tenant's key: bulk on loc-0", [item(0)]),
      headers: { ...JSON_AUTH, Authorization: `Bearer ${ctx.otherTenantKey}` },
      expect: 403,
    },
  ];
}

/**
 * The likely cause, from reading src/, of each case the app did not answer as expected when this
 * benchmark was written; printed only while the case still fails.
 */
export const SUSPECTS: Record<string, string> = {
  "NUL character in title, with Idempotency-Key":
    "the title is not refused; the block is created in HighLevel, then storing the answer as jsonb fails on \\u0000 → 500 after the work was done, and the key stays locked for 120 s (src/http/idempotency.ts, src/block-slots/schemas.ts)",
  "SQL injection in calendarId":
    "calendarId/assignedUserId are only length-checked (`target` in src/block-slots/schemas.ts), unlike locationId/eventId; the value travels in a JSON body, so HighLevel, not the app, refuses it",
  "path traversal in calendarId": "as above: calendarId has no format check and is forwarded to HighLevel",
  "Content-Encoding gzip, body not gzip":
    "body-parser raises an http-errors 400 without a `type` (the zlib error); toProblem() in src/http/errors.ts maps only known `type`s and turns every other client error into 500",
  "bulk: NUL character in a title":
    "titles may contain U+0000, which a PostgreSQL text column refuses: the insert in BulkService.submit fails → 500 (no control-character check in src/block-slots/schemas.ts)",
  "bulk job id: 36 hyphens":
    "the guard /^[0-9a-f-]{36}$/ in BulkService.ownJob (src/bulk/service.ts) lets non-UUIDs through; PostgreSQL's uuid cast then fails → 500",
  "bulk job id: 36 hex digits, no hyphens": "as above (BulkService.ownJob's guard)",
  "webhook: signed, NUL in a field (accepted)":
    "the signed payload is stored as jsonb, which refuses \\u0000 → 500, so HighLevel would redeliver it again and again (src/webhooks/inbox.ts)",
};
