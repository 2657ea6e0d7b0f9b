import { afterEach, beforeEach, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Hono } from "hono";
import {
  MAX_REQUEST_BYTES,
  REGISTRY_CONTENT_TYPE,
  schemaRegistryRoutes,
} from "../../../api/schema-registry/routes.ts";
import { openLog } from "../../../log/index.ts";
import type { Log } from "../../../log/log.ts";
import { MAX_SCHEMA_BYTES, MAX_SCHEMA_DEPTH } from "../../../messages/schema-registry/schema-bounds.ts";
import { SchemaRegistry } from "../../../registries/schema-registry.ts";

const v1 = JSON.stringify({
  type: "object",
  properties: { id: { type: "string" }, avg_speed: { type: "number" } },
  required: ["id"],
});
const v2 = JSON.stringify({
  type: "object",
  properties: { id: { type: "string" }, avg_speed: { type: "number" }, note: {} },
  required: ["id"],
});
const breaking = JSON.stringify({
  type: "object",
  properties: { id: { type: "string" }, avg_speed: { type: "number" } },
  required: ["id", "avg_speed"],
});

let dir: string;
let log: Log;
let registry: SchemaRegistry;

beforeEach(async () => {
  dir = mkdtempSync(join(tmpdir(), "schema-registry-api-"));
  log = await openLog({ kind: "embedded", path: join(dir, "log.sqlite") });
  registry = await SchemaRegistry.open(log);
});

afterEach(async () => {
  await log.close();
  rmSync(dir, { recursive: true, force: true });
});

// the same suite runs with the registry mounted at the root and under a prefix
const mounts = [
  ["at the root", ""],
  ["under /schema-registry", "/schema-registry"],
] as const;

describe.each(mounts)("the Confluent REST API mounted %s", (_where, prefix) => {
  let app: Hono;
  beforeEach(() => {
    app = new Hono();
    app.get("/health", (c) => c.text("ok"));
    app.route(prefix === "" ? "/" : prefix, schemaRegistryRoutes(registry));
  });

  async function call(method: string, path: string, body?: unknown, contentType = REGISTRY_CONTENT_TYPE) {
    const init: RequestInit = { method, headers: { "content-type": contentType } };
    if (body !== undefined) init.body = typeof body === "string" ? body : JSON.stringify(body);
    const response = await app.request(`${prefix}${path}`, init);
    const text = await response.text();
    return {
      status: response.status,
      type: response.headers.get("content-type"),
      body: text === "" ? undefined : JSON.parse(text),
    };
  }

  // Regression: a node served another node's registration only after its next follow (up to 1 s).
  test("serves a schema registered through another registry over the same log at once, without waiting for a follow", async () => {
    const otherNode = await SchemaRegistry.open(log);
    const { id } = await otherNode.register("speed-value", v1, { schemaType: "JSON" });
    expect((await call("GET", `/schemas/ids/${id}`)).status).toBe(200);
    expect((await call("GET", "/subjects/speed-value/versions/latest")).body).toMatchObject({
      version: 1,
      id,
    });
    await otherNode.register("speed-value", v2, { schemaType: "JSON" });
    expect((await call("GET", "/subjects/speed-value/versions")).body).toEqual([1, 2]);
    const lookup = await call("POST", "/subjects/speed-value", { schema: v2, schemaType: "JSON" });
    expect(lookup.body).toMatchObject({ version: 2 });
    await otherNode.close();
  });

  test("registers, lists and reads schemas with Confluent's response shapes", async () => {
    const first = await call("POST", "/subjects/speed-value/versions", { schema: v1, schemaType: "JSON" });
    expect(first).toEqual({ status: 200, type: REGISTRY_CONTENT_TYPE, body: { id: 1 } });
    await call(
      "POST",
      "/subjects/speed-value/versions",
      { schema: v2, schemaType: "JSON" },
      "application/json",
    );
    expect((await call("GET", "/subjects")).body).toEqual(["speed-value"]);
    expect((await call("GET", "/subjects/speed-value/versions")).body).toEqual([1, 2]);
    expect((await call("GET", "/subjects/speed-value/versions/latest")).body).toEqual({
      subject: "speed-value",
      version: 2,
      id: 2,
      schemaType: "JSON",
      schema: JSON.stringify(JSON.parse(v2)),
    });
    expect((await call("GET", "/subjects/speed-value/versions/1/schema")).body).toEqual(JSON.parse(v1));
    expect((await call("GET", "/schemas/ids/1")).body).toEqual({
      schemaType: "JSON",
      schema: JSON.stringify(JSON.parse(v1)),
    });
    expect((await call("GET", "/schemas/ids/1/versions")).body).toEqual([
      { subject: "speed-value", version: 1 },
    ]);
    expect((await call("GET", "/schemas/types")).body).toEqual(["JSON"]);
    expect(
      (await call("POST", "/subjects/speed-value", { schema: v1, schemaType: "JSON" })).body,
    ).toMatchObject({ version: 1, id: 1 });
  });

  test("an incompatible schema is refused with 409 and the rule it broke", async () => {
    await call("POST", "/subjects/speed-value/versions", { schema: v1, schemaType: "JSON" });
    const refused = await call("POST", "/subjects/speed-value/versions", {
      schema: breaking,
      schemaType: "JSON",
    });
    expect(refused.status).toBe(409);
    expect(refused.body.error_code).toBe(409);
    expect(refused.body.message).toContain(
      "BACKWARD: property 'avg_speed' became required at #/properties/avg_speed; a reader using the new schema cannot read data written with version 1",
    );
    const check = await call("POST", "/compatibility/subjects/speed-value/versions/latest", {
      schema: breaking,
      schemaType: "JSON",
    });
    expect(check.body.is_compatible).toBe(false);
    expect(check.body.messages[0]).toContain("REQUIRED_ATTRIBUTE_ADDED");
    expect(
      (
        await call("POST", "/compatibility/subjects/speed-value/versions/1", {
          schema: v2,
          schemaType: "JSON",
        })
      ).body,
    ).toEqual({ is_compatible: true });
  });

  test("config is global and per subject, with 40408 for a subject without its own", async () => {
    expect((await call("GET", "/config")).body).toEqual({ compatibilityLevel: "BACKWARD" });
    expect((await call("PUT", "/config", { compatibility: "FULL" })).body).toEqual({ compatibility: "FULL" });
    const missing = await call("GET", "/config/speed-value");
    expect([missing.status, missing.body.error_code]).toEqual([404, 40408]);
    expect((await call("GET", "/config/speed-value?defaultToGlobal=true")).body).toEqual({
      compatibilityLevel: "FULL",
    });
    await call("PUT", "/config/speed-value", { compatibility: "NONE" });
    expect((await call("GET", "/config/speed-value")).body).toEqual({ compatibilityLevel: "NONE" });
    expect((await call("DELETE", "/config/speed-value")).body).toEqual({ compatibilityLevel: "NONE" });
    expect((await call("GET", "/mode")).body).toEqual({ mode: "READWRITE" });
    for (const path of ["/mode", "/mode/speed-value"]) {
      const refused = await call("PUT", path, { mode: "READONLY" });
      expect([refused.status, refused.body.error_code]).toEqual([422, 42205]);
    }
  });

  test("soft and hard deletes follow Confluent's order", async () => {
    await call("POST", "/subjects/speed-value/versions", { schema: v1, schemaType: "JSON" });
    await call("POST", "/subjects/speed-value/versions", { schema: v2, schemaType: "JSON" });
    expect((await call("DELETE", "/subjects/speed-value/versions/2")).body).toBe(2);
    expect((await call("DELETE", "/subjects/speed-value/versions/2?permanent=true")).body).toBe(2);
    expect((await call("DELETE", "/subjects/speed-value?permanent=true")).body.error_code).toBe(40405);
    expect((await call("DELETE", "/subjects/speed-value")).body).toEqual([1]);
    expect((await call("GET", "/subjects?deleted=true")).body).toEqual(["speed-value"]);
    expect((await call("DELETE", "/subjects/speed-value?permanent=true")).body).toEqual([1]);
    expect((await call("GET", "/subjects?deleted=true")).body).toEqual([]);
  });

  test.each([
    ["an unknown subject", "GET", "/subjects/nope/versions", undefined, 404, 40401],
    ["an unknown version", "GET", "/subjects/speed-value/versions/9", undefined, 404, 40402],
    ["an unknown schema id", "GET", "/schemas/ids/999", undefined, 404, 40403],
    ["a non-numeric schema id", "GET", "/schemas/ids/abc", undefined, 404, 40403],
    ["a version that is not a number", "GET", "/subjects/speed-value/versions/two", undefined, 422, 42202],
    ["version zero", "GET", "/subjects/speed-value/versions/0", undefined, 422, 42202],
    [
      "a schema that is not JSON",
      "POST",
      "/subjects/x/versions",
      { schema: "{oops", schemaType: "JSON" },
      422,
      42201,
    ],
    [
      "a malformed JSON schema",
      "POST",
      "/subjects/x/versions",
      { schema: '{"type":"decimal"}', schemaType: "JSON" },
      422,
      42201,
    ],
    ["an Avro schema", "POST", "/subjects/x/versions", { schema: '{"type":"string"}' }, 422, 42201],
    ["a body without a schema", "POST", "/subjects/x/versions", { schemaType: "JSON" }, 422, 42201],
    [
      "schema references",
      "POST",
      "/subjects/x/versions",
      { schema: "{}", schemaType: "JSON", references: [{ name: "a", subject: "b", version: 1 }] },
      422,
      42201,
    ],
    ["a body that is not JSON", "POST", "/subjects/x/versions", "not json", 400, 400],
    ["an unknown compatibility level", "PUT", "/config", { compatibility: "SIDEWAYS" }, 422, 42203],
    [
      "a lookup of an unregistered schema",
      "POST",
      "/subjects/speed-value",
      { schema: v2, schemaType: "JSON" },
      404,
      40403,
    ],
  ])("refuses %s with Confluent's error code", async (_name, method, path, body, status, code) => {
    await call("POST", "/subjects/speed-value/versions", { schema: v1, schemaType: "JSON" });
    const response = await call(method, path, body);
    expect([response.status, response.body.error_code]).toEqual([status, code]);
    expect(typeof response.body.message).toBe("string");
    expect(response.body.message).not.toMatch(/^[A-Z_]+: /);
  });

  test("leaves the host app's other routes alone", async () => {
    expect(await (await app.request("/health")).text()).toBe("ok");
  });

  test("leaves the content type and size of the host app's own posts alone", async () => {
    app.post("/echo", async (c) => c.text(await c.req.text()));
    const big = "x".repeat(MAX_REQUEST_BYTES + 1);
    const response = await app.request("/echo", {
      method: "POST",
      headers: { "content-type": "text/plain" },
      body: big,
    });
    expect([response.status, (await response.text()).length]).toEqual([200, big.length]);
  });

  // Confluent's resources @Consume these
  const accepted: Array<[string, string | undefined]> = [
    ["its v1 vendor type", REGISTRY_CONTENT_TYPE],
    ["its unversioned vendor type", "application/vnd.schemaregistry+json"],
    ["plain JSON", "application/json"],
    ["plain JSON with a charset", "application/json; charset=utf-8"],
    ["a vendor type in capitals", "Application/VND.SchemaRegistry.v1+JSON"],
    ["octet-stream", "application/octet-stream"],
  ];
  test.each(accepted)("accepts a schema sent as %s", async (_name, contentType) => {
    const headers: Record<string, string> = contentType === undefined ? {} : { "content-type": contentType };
    const response = await app.request(`${prefix}/subjects/speed-value/versions`, {
      method: "POST",
      headers,
      body: JSON.stringify({ schema: v1, schemaType: "JSON" }),
    });
    expect([response.status, await response.json()]).toEqual([200, { id: 1 }]);
  });

  // Regression: a text/plain body registered a schema.
  const refused: Array<[string, string, string, string]> = [
    ["text/plain on register", "POST", "/subjects/speed-value/versions", "text/plain"],
    [
      "a form post on register",
      "POST",
      "/subjects/speed-value/versions",
      "application/x-www-form-urlencoded",
    ],
    ["text/plain on lookup", "POST", "/subjects/speed-value", "text/plain;charset=UTF-8"],
    [
      "XML on a compatibility check",
      "POST",
      "/compatibility/subjects/speed-value/versions/latest",
      "application/xml",
    ],
    ["text/plain on a config change", "PUT", "/config", "text/plain"],
    ["text/plain on a subject config change", "PUT", "/config/speed-value", "text/plain"],
  ];
  test.each(refused)("refuses %s with 415 and error_code 415", async (_name, method, path, contentType) => {
    const response = await call(
      method,
      path,
      { schema: v1, schemaType: "JSON", compatibility: "NONE" },
      contentType,
    );
    expect([response.status, response.type, response.body.error_code]).toEqual([
      415,
      REGISTRY_CONTENT_TYPE,
      415,
    ]);
    expect(response.body.message).toContain("application/vnd.schemaregistry.v1+json");
    expect(registry.subjects()).toEqual([]);
    expect(registry.globalCompatibility()).toBe("BACKWARD");
  });

  // Regression: a body without a Content-Type (a browser's Blob, sent cross-site without a
  // preflight) registered a schema, as Jersey reads it as octet-stream.
  test("refuses a write without a content type with 415", async () => {
    for (const [method, path] of [
      ["POST", "/subjects/speed-value/versions"],
      ["PUT", "/config"],
    ] as const) {
      const response = await app.request(`${prefix}${path}`, {
        method,
        body: new Blob([JSON.stringify({ schema: v1, schemaType: "JSON", compatibility: "NONE" })]),
      });
      expect([response.status, ((await response.json()) as { error_code: number }).error_code]).toEqual([
        415, 415,
      ]);
    }
    expect(registry.subjects()).toEqual([]);
    expect(registry.globalCompatibility()).toBe("BACKWARD");
  });

  // Regression: a 20,000-deep schema answered 500 "Maximum call stack size exceeded".
  test("refuses a schema nested deeper than the bound with 422 and 42201, echoing nothing internal", async () => {
    const deep = `${'{"not":'.repeat(20_000)}{}${"}".repeat(20_000)}`;
    const response = await call("POST", "/subjects/deep-value/versions", {
      schema: deep,
      schemaType: "JSON",
    });
    expect([response.status, response.body.error_code]).toEqual([422, 42201]);
    expect(response.body.message).toContain(`${MAX_SCHEMA_DEPTH} levels`);
    expect(response.body.message).not.toMatch(/stack|RangeError/i);
    // the same through lookup and the compatibility check
    for (const path of ["/subjects/deep-value", "/compatibility/subjects/deep-value/versions"]) {
      const other = await call("POST", path, { schema: deep, schemaType: "JSON" });
      expect([other.status, other.body.error_code]).toEqual([422, 42201]);
    }
  });

  // Regression, found probing a running node: {"not":{"$ref":"#"}} checked against an earlier
  // {"allOf":[{"$ref":"#"}]} of the same subject recursed without end and answered 500.
  test("checks a recursive schema against an earlier recursive one and answers, never 500", async () => {
    const first = await call("POST", "/subjects/loop-value/versions", {
      schema: '{"allOf":[{"$ref":"#"}]}',
      schemaType: "JSON",
    });
    expect(first.status).toBe(200);
    for (const path of [
      "/subjects/loop-value/versions",
      "/compatibility/subjects/loop-value/versions/latest",
    ]) {
      const next = await call("POST", path, { schema: '{"not":{"$ref":"#"}}', schemaType: "JSON" });
      expect(next.status).toBeLessThan(500);
      expect(JSON.stringify(next.body)).not.toMatch(/stack|RangeError|backend/i);
    }
  });

  test("accepts a schema nested right up to the bound", async () => {
    // each {"not": ...} is one level; the innermost {} is the last
    const levels = MAX_SCHEMA_DEPTH;
    const atBound = `${'{"not":'.repeat(levels - 1)}{}${"}".repeat(levels - 1)}`;
    const response = await call("POST", "/subjects/deep-value/versions", {
      schema: atBound,
      schemaType: "JSON",
    });
    expect(response.status).toBe(200);
    const deeper = `{"not":${atBound}}`;
    const refusedOne = await call("POST", "/subjects/deeper-value/versions", {
      schema: deeper,
      schemaType: "JSON",
    });
    expect([refusedOne.status, refusedOne.body.error_code]).toEqual([422, 42201]);
  });

  test("refuses a schema larger than the bound with 422 and Confluent's 42209", async () => {
    const description = "d".repeat(MAX_SCHEMA_BYTES);
    const large = JSON.stringify({ type: "object", description });
    const response = await call("POST", "/subjects/large-value/versions", {
      schema: large,
      schemaType: "JSON",
    });
    expect([response.status, response.body.error_code]).toEqual([422, 42209]);
    expect(response.body.message).toMatch(/^Schema is too large/);
    expect(registry.subjects()).toEqual([]);
  });

  // Regression: a 12.7 MB schema was parsed and compared on the main thread for 2.5 s.
  test("refuses a request body past the bound with 413 before parsing it", async () => {
    const huge = JSON.stringify({
      schema: JSON.stringify({ description: "d".repeat(12_700_000) }),
      schemaType: "JSON",
    });
    expect(huge.length).toBeGreaterThan(MAX_REQUEST_BYTES);
    const response = await call("POST", "/subjects/huge-value/versions", huge);
    expect([response.status, response.type, response.body.error_code]).toEqual([
      413,
      REGISTRY_CONTENT_TYPE,
      41301,
    ]);
    expect(response.body.message).toContain(String(MAX_REQUEST_BYTES));
    expect(registry.subjects()).toEqual([]);
  });
});
