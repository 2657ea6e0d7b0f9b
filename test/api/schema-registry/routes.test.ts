import { afterEach, beforeEach, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Hono } from "hono";
import { REGISTRY_CONTENT_TYPE, schemaRegistryRoutes } from "../../../api/schema-registry/routes.ts";
import { openLog } from "../../../log/index.ts";
import type { Log } from "../../../log/log.ts";
import { SchemaRegistry } from "../../../messages/schema-registry/schema-registry.ts";

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
});
