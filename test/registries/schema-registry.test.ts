import { afterEach, beforeEach, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { openLog } from "../../log/index.ts";
import type { Log } from "../../log/log.ts";
import { isPlatformError, type PlatformError } from "../../messages/errors.ts";
import { SchemaRegistry } from "../../registries/schema-registry.ts";

const v1 = JSON.stringify({
  type: "object",
  properties: { id: { type: "string" }, avg_speed: { type: "number" } },
  required: ["id"],
});
const v2 = JSON.stringify({
  type: "object",
  properties: { id: { type: "string" }, avg_speed: { type: "number" }, zone: {} },
  required: ["id"],
});
const breaking = JSON.stringify({
  type: "object",
  properties: { id: { type: "string" }, avg_speed: { type: "number" } },
  required: ["id", "avg_speed"],
});
const JSON_TYPE = { schemaType: "JSON" };

async function failure(work: () => unknown): Promise<PlatformError> {
  try {
    await work();
  } catch (error) {
    if (isPlatformError(error)) return error;
    throw error;
  }
  throw new Error("expected a PlatformError");
}

let dir: string;
let log: Log;
let registry: SchemaRegistry;

beforeEach(async () => {
  dir = mkdtempSync(join(tmpdir(), "schema-registry-"));
  log = await openLog({ kind: "embedded", path: join(dir, "log.sqlite") });
  registry = await SchemaRegistry.open(log);
});

afterEach(async () => {
  await log.close();
  rmSync(dir, { recursive: true, force: true });
});

describe("SchemaRegistry", () => {
  test("versions count from 1 and ids are global", async () => {
    const a = await registry.register("speed-value", v1, JSON_TYPE);
    const b = await registry.register("speed-value", v2, JSON_TYPE);
    expect([a.version, b.version]).toEqual([1, 2]);
    expect(b.id).toBe(a.id + 1);
    expect(registry.versions("speed-value")).toEqual([1, 2]);
    expect(registry.version("speed-value", "latest").id).toBe(b.id);
  });

  test("registering the same schema again returns the same version and id", async () => {
    const a = await registry.register("speed-value", v1, JSON_TYPE);
    const again = await registry.register("speed-value", JSON.stringify(JSON.parse(v1), null, 2), JSON_TYPE);
    expect(again).toEqual(a);
    expect(registry.versions("speed-value")).toEqual([1]);
  });

  test("the same schema under two subjects shares one id, whatever its key order", async () => {
    const a = await registry.register("a-value", v1, JSON_TYPE);
    const reordered = JSON.stringify({
      required: ["id"],
      properties: { avg_speed: { type: "number" }, id: { type: "string" } },
      type: "object",
    });
    const b = await registry.register("b-value", reordered, JSON_TYPE);
    expect(b.id).toBe(a.id);
    expect(registry.subjectVersionsOf(a.id)).toEqual([
      { subject: "a-value", version: 1 },
      { subject: "b-value", version: 1 },
    ]);
  });

  test("an incompatible schema is refused with the rule it broke", async () => {
    await registry.register("speed-value", v1, JSON_TYPE);
    const error = await failure(() => registry.register("speed-value", breaking, JSON_TYPE));
    expect(error.code).toBe("SCHEMA_INCOMPATIBLE");
    expect(error.message).toContain(
      "BACKWARD: property 'avg_speed' became required at #/properties/avg_speed",
    );
    expect(error.details?.registryErrorCode).toBe(409);
  });

  test("a subject's own level overrides the global one", async () => {
    await registry.register("speed-value", v1, JSON_TYPE);
    await registry.setCompatibility("speed-value", "none");
    expect(registry.subjectCompatibility("speed-value")).toBe("NONE");
    expect(registry.globalCompatibility()).toBe("BACKWARD");
    expect((await registry.register("speed-value", breaking, JSON_TYPE)).version).toBe(2);
    expect(await registry.deleteSubjectCompatibility("speed-value")).toBe("NONE");
    expect(registry.subjectCompatibility("speed-value")).toBeUndefined();
  });

  test.each([
    ["an unsupported schema type", "AVRO", v1, 42201],
    ["text that is not JSON", "JSON", "{nope", 42201],
    ["a malformed JSON schema", "JSON", JSON.stringify({ type: "decimal" }), 42201],
  ])("refuses %s with 42201", async (_name, schemaType, text, code) => {
    const error = await failure(() => registry.register("x", text, { schemaType }));
    expect(error.code).toBe("SCHEMA_INVALID");
    expect(error.details?.registryErrorCode).toBe(code);
  });

  test("an invalid compatibility level is refused with 42203", async () => {
    expect(
      (await failure(() => registry.setCompatibility(null, "SIDEWAYS"))).details?.registryErrorCode,
    ).toBe(42203);
  });

  test("soft delete hides a subject, keeps its ids readable, and versions keep counting", async () => {
    const a = await registry.register("speed-value", v1, JSON_TYPE);
    expect(await registry.deleteSubject("speed-value")).toEqual([1]);
    expect(registry.subjects()).toEqual([]);
    expect(registry.subjects(true)).toEqual(["speed-value"]);
    expect((await failure(() => registry.versions("speed-value"))).details?.registryErrorCode).toBe(40401);
    expect(registry.schemaById(a.id).schema).toBe(JSON.stringify(JSON.parse(v1)));
    expect((await failure(() => registry.deleteSubject("speed-value"))).details?.registryErrorCode).toBe(
      40404,
    );
    expect((await registry.register("speed-value", v1, JSON_TYPE)).version).toBe(2);
  });

  test("hard delete needs a soft delete first, then forgets the subject and its id", async () => {
    const a = await registry.register("speed-value", v1, JSON_TYPE);
    expect(
      (await failure(() => registry.deleteSubject("speed-value", true))).details?.registryErrorCode,
    ).toBe(40405);
    await registry.deleteSubject("speed-value");
    expect(await registry.deleteSubject("speed-value", true)).toEqual([1]);
    expect(registry.subjects(true)).toEqual([]);
    expect((await failure(() => registry.schemaById(a.id))).details?.registryErrorCode).toBe(40403);
  });

  test("one version can be soft then hard deleted, and 'latest' moves back", async () => {
    await registry.register("speed-value", v1, JSON_TYPE);
    await registry.register("speed-value", v2, JSON_TYPE);
    expect(
      (await failure(() => registry.deleteVersion("speed-value", 2, true))).details?.registryErrorCode,
    ).toBe(40407);
    expect(await registry.deleteVersion("speed-value", "latest")).toBe(2);
    expect(registry.version("speed-value", "latest").version).toBe(1);
    expect((await failure(() => registry.deleteVersion("speed-value", 2))).details?.registryErrorCode).toBe(
      40402,
    );
    expect(registry.version("speed-value", 2, true).version).toBe(2);
    expect(await registry.deleteVersion("speed-value", 2, true)).toBe(2);
    expect(registry.versions("speed-value", true)).toEqual([1]);
  });

  test("lookup finds the version holding a schema, or says which thing is missing", async () => {
    await registry.register("speed-value", v1, JSON_TYPE);
    expect(registry.lookup("speed-value", v1, JSON_TYPE).version).toBe(1);
    expect(
      (await failure(() => registry.lookup("speed-value", v2, JSON_TYPE))).details?.registryErrorCode,
    ).toBe(40403);
    expect((await failure(() => registry.lookup("other", v1, JSON_TYPE))).details?.registryErrorCode).toBe(
      40401,
    );
  });

  test("compatibility against one version ignores the others", async () => {
    await registry.register("speed-value", v1, JSON_TYPE);
    expect(registry.compatibility("speed-value", breaking, "latest", "JSON")[0]).toContain(
      "REQUIRED_ATTRIBUTE_ADDED",
    );
    expect(registry.compatibility("speed-value", v2, 1, "JSON")).toEqual([]);
  });

  test("state survives a restart: the registry replays the _schemas topic", async () => {
    const a = await registry.register("speed-value", v1, JSON_TYPE);
    const b = await registry.register("speed-value", v2, JSON_TYPE);
    await registry.register("other-value", v1, JSON_TYPE);
    await registry.setCompatibility(null, "FULL");
    await registry.setCompatibility("other-value", "NONE");
    await registry.deleteVersion("speed-value", 1);
    await log.close();

    log = await openLog({ kind: "embedded", path: join(dir, "log.sqlite") });
    const reopened = await SchemaRegistry.open(log);
    expect(reopened.subjects()).toEqual(["other-value", "speed-value"]);
    expect(reopened.versions("speed-value")).toEqual([2]);
    expect(reopened.versions("speed-value", true)).toEqual([1, 2]);
    expect(reopened.version("speed-value", "latest").id).toBe(b.id);
    expect(reopened.schemaById(a.id).id).toBe(a.id);
    expect(reopened.globalCompatibility()).toBe("FULL");
    expect(reopened.subjectCompatibility("other-value")).toBe("NONE");
    const next = await reopened.register("third-value", JSON.stringify({ type: "string" }), JSON_TYPE);
    expect(next.id).toBe(b.id + 1);
  });

  test("the _schemas records use Confluent's key shapes on a one-partition topic", async () => {
    await registry.register("speed-value", v1, JSON_TYPE);
    await registry.setCompatibility("speed-value", "FULL");
    expect(await log.partitions("_schemas")).toBe(1);
    const records = await log.read({ topic: "_schemas", partition: 0 });
    expect(records.map((r) => r.key)).toEqual([
      '{"keytype":"SCHEMA","subject":"speed-value","version":1,"magic":1}',
      '{"keytype":"CONFIG","subject":"speed-value","magic":0}',
    ]);
    expect(JSON.parse(new TextDecoder().decode(records[0]!.value!))).toMatchObject({
      subject: "speed-value",
      version: 1,
      id: 1,
      schemaType: "JSON",
      deleted: false,
    });
  });

  test("concurrent registrations of different schemas get distinct versions and ids", async () => {
    await registry.setCompatibility(null, "NONE");
    const schemas = Array.from({ length: 8 }, (_, i) => JSON.stringify({ type: "object", title: `t${i}` }));
    const results = await Promise.all(schemas.map((s) => registry.register("burst", s, JSON_TYPE)));
    expect(new Set(results.map((r) => r.version)).size).toBe(8);
    expect(new Set(results.map((r) => r.id)).size).toBe(8);
  });
});
