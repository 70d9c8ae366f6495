import Ajv2020 from "ajv/dist/2020";
import addFormats from "ajv-formats";
import request from "supertest";
import { startHarness, type Harness } from "./support/harness";

let h: Harness;
beforeAll(async () => {
  h = await startHarness();
});
afterAll(() => h.close());

describe("the API description", () => {
  it("serves an OpenAPI 3.1 document without a key, covering every block-slot route", async () => {
    const res = await request(h.app).get("/api/openapi.json").expect(200);
    expect(res.body.openapi).toBe("3.1.0");
    const ops = Object.entries(res.body.paths as Record<string, Record<string, unknown>>).flatMap(([path, methods]) =>
      Object.keys(methods).map((m) => `${m.toUpperCase()} ${path}`),
    );
    expect(ops).toEqual(
      expect.arrayContaining([
        "GET /api/installations",
        "POST /api/locations/{locationId}/block-slots",
        "GET /api/locations/{locationId}/block-slots",
        "PUT /api/locations/{locationId}/block-slots/{eventId}",
        "DELETE /api/locations/{locationId}/block-slots/{eventId}",
      ]),
    );
    const create = res.body.paths["/api/locations/{locationId}/block-slots"].post;
    expect(create.parameters.map((p: { name: string }) => p.name)).toContain("Idempotency-Key");
    expect(create.responses["401"].content["application/problem+json"]).toBeDefined();
  });

  it("describes the create body with the same rules the route enforces", async () => {
    const { body: doc } = await request(h.app).get("/api/openapi.json").expect(200);
    const ajv = new Ajv2020({ strict: false });
    addFormats(ajv);
    const validate = ajv.compile(doc.components.schemas.BlockSlotInput);
    const good = { calendarId: "cal-1", startTime: "2030-05-01T12:00:00+02:00", endTime: "2030-05-01T13:00:00+02:00" };
    expect(validate(good)).toBe(true);
    expect(validate({ ...good, color: "red" })).toBe(false);
    expect(validate({ ...good, startTime: undefined })).toBe(false);
    expect(validate({ ...good, title: "x".repeat(201) })).toBe(false);
  });

  it("serves the reference page with its viewer from the app itself, no CDN", async () => {
    const res = await request(h.app).get("/api/docs").expect(200);
    expect(res.headers["content-type"]).toContain("text/html");
    expect(res.text).toContain('href="/api/openapi.json"');
    const sources = [...res.text.matchAll(/(?:src|href)="([^"]+)"/g)].map((m) => m[1]!);
    expect(sources.filter((s) => /^(https?:)?\/\//.test(s))).toEqual([]);
    for (const asset of sources.filter((s) => s.endsWith(".js") || s.endsWith(".css"))) {
      await request(h.app).get(asset).expect(200);
    }
  });

  it("shows request and response examples that fit their schemas", async () => {
    const { body: doc } = await request(h.app).get("/api/openapi.json").expect(200);
    const ajv = new Ajv2020({ strict: false });
    addFormats(ajv);
    ajv.addSchema({ $id: "doc", components: doc.components });
    type Content = Record<string, { schema: { $ref: string }; example?: unknown }> | undefined;
    type Op = { requestBody?: { content?: Content }; responses: Record<string, { content?: Content }> };
    const examples: { where: string; ref: string; example: unknown }[] = [];
    for (const [path, methods] of Object.entries(doc.paths as Record<string, Record<string, Op>>)) {
      for (const [method, op] of Object.entries(methods)) {
        const body = op.requestBody?.content?.["application/json"];
        if (body?.example)
          examples.push({ where: `${method} ${path} body`, ref: body.schema.$ref, example: body.example });
        for (const [status, r] of Object.entries(op.responses)) {
          const json = r.content?.["application/json"];
          if (json?.example)
            examples.push({ where: `${method} ${path} ${status}`, ref: json.schema.$ref, example: json.example });
        }
      }
    }
    expect(examples.length).toBeGreaterThanOrEqual(10);
    for (const { where, ref, example } of examples) {
      const validate = ajv.compile({ $ref: `doc${ref}` });
      validate(example);
      expect({ where, errors: validate.errors ?? [] }).toEqual({ where, errors: [] });
    }
  });
});
