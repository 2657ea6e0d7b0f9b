import { afterEach, beforeEach, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { openLog } from "../../../log/index.ts";
import type { Log } from "../../../log/log.ts";
import { isPlatformError, type PlatformError } from "../../../messages/errors.ts";
import { SchemaSerde, type SchemaSource } from "../../../messages/schema-registry/schema-serde.ts";
import { frame, schemaIdOf } from "../../../messages/schema-registry/wire-format.ts";
import { PHYSICAL_LIMITS, SensorReading, sensorReadingJsonSchema } from "../../../messages/sensor-reading.ts";
import { SchemaRegistry } from "../../../registries/schema-registry.ts";

const readingSchema = {
  type: "object",
  properties: { sensor_id: { type: "string" }, value: { type: "number", minimum: -20, maximum: 50 } },
  required: ["sensor_id", "value"],
};

function thrown(work: () => unknown): PlatformError {
  try {
    work();
  } catch (error) {
    if (isPlatformError(error)) return error;
    throw error;
  }
  throw new Error("expected a PlatformError");
}

let dir: string;
let log: Log;
let registry: SchemaRegistry;
let serde: SchemaSerde;

beforeEach(async () => {
  dir = mkdtempSync(join(tmpdir(), "schema-serde-"));
  log = await openLog({ kind: "embedded", path: join(dir, "log.sqlite") });
  registry = await SchemaRegistry.open(log);
  const source: SchemaSource = registry;
  serde = new SchemaSerde(source, { schemas: { "city.sensors.raw-value": readingSchema } });
});

afterEach(async () => {
  await log.close();
  rmSync(dir, { recursive: true, force: true });
});

describe("the Confluent wire format", () => {
  test("frames a payload as magic 0, a big-endian id, then the bytes", () => {
    expect([...frame(0x01020304, new Uint8Array([9, 8]))]).toEqual([0, 1, 2, 3, 4, 9, 8]);
    expect(schemaIdOf(frame(258, new Uint8Array(0)))).toBe(258);
  });

  test.each([
    ["an empty record", new Uint8Array(0)],
    ["a record shorter than the header", new Uint8Array([0, 0, 0])],
    ["a record with magic byte 1", new Uint8Array([1, 0, 0, 0, 1, 123, 125])],
  ])("refuses %s with DECODE_FAILED", (_name, bytes) => {
    expect(thrown(() => schemaIdOf(bytes)).code).toBe("DECODE_FAILED");
  });
});

describe("SchemaSerde", () => {
  test("encode registers the subject's schema once and decode gives the value back", async () => {
    const value = { sensor_id: "t_1", value: 21.5 };
    const bytes = await serde.encode("city.sensors.raw-value", value);
    await serde.encode("city.sensors.raw-value", value);
    expect(registry.versions("city.sensors.raw-value")).toEqual([1]);
    expect(schemaIdOf(bytes)).toBe(registry.version("city.sensors.raw-value", "latest").id);
    expect(serde.decode(bytes)).toEqual(value);
  });

  test("a subject with no listed schema writes with its latest version", async () => {
    await registry.register("other-value", JSON.stringify({ type: "string" }), { schemaType: "JSON" });
    const bytes = await serde.encode("other-value", "hello");
    expect(new SchemaSerde(registry).decode(bytes)).toBe("hello");
  });

  test("encode refuses a value that fails the schema, naming the pointer", async () => {
    let error: unknown;
    try {
      await serde.encode("city.sensors.raw-value", { sensor_id: "t_1", value: 99 });
    } catch (e) {
      error = e;
    }
    expect(isPlatformError(error, "SCHEMA_VIOLATION")).toBe(true);
    expect((error as PlatformError).details?.pointer).toBe("#/value");
  });

  test("decode refuses an unknown schema id with UNKNOWN_SCHEMA", () => {
    const error = thrown(() => serde.decode(frame(4242, new TextEncoder().encode("{}"))));
    expect(error.code).toBe("UNKNOWN_SCHEMA");
    expect(error.details?.schemaId).toBe(4242);
  });

  test("decode refuses a payload failing its schema with SCHEMA_VIOLATION and the pointer", async () => {
    const good = await serde.encode("city.sensors.raw-value", { sensor_id: "t_1", value: 1 });
    const bad = frame(schemaIdOf(good), new TextEncoder().encode('{"sensor_id":"t_1","value":"hot"}'));
    const error = thrown(() => serde.decode(bad));
    expect(error.code).toBe("SCHEMA_VIOLATION");
    expect(error.details?.pointer).toBe("#/value");
  });

  test.each([
    ["text that is not JSON", new TextEncoder().encode("{oops")],
    ["bytes that are not UTF-8", new Uint8Array([0xff, 0xfe])],
  ])("decode refuses %s with MALFORMED_JSON", async (_name, payload) => {
    const good = await serde.encode("city.sensors.raw-value", { sensor_id: "t_1", value: 1 });
    expect(thrown(() => serde.decode(frame(schemaIdOf(good), payload))).code).toBe("MALFORMED_JSON");
  });

  test("decode refuses truncated bytes and a wrong magic byte with DECODE_FAILED", () => {
    expect(thrown(() => serde.decode(new Uint8Array([0, 0]))).code).toBe("DECODE_FAILED");
    expect(thrown(() => serde.decode(new Uint8Array([7, 0, 0, 0, 1, 0x7b, 0x7d]))).code).toBe(
      "DECODE_FAILED",
    );
  });

  test("records written with a soft-deleted version still decode", async () => {
    const bytes = await serde.encode("city.sensors.raw-value", { sensor_id: "t_1", value: 2 });
    await registry.deleteSubject("city.sensors.raw-value");
    expect(new SchemaSerde(registry).decode(bytes)).toEqual({ sensor_id: "t_1", value: 2 });
  });

  test("without auto-registration an unregistered schema is refused and not cached", async () => {
    const strict = new SchemaSerde(registry, {
      schemas: { "s-value": { type: "integer" } },
      autoRegister: false,
    });
    let error: unknown;
    try {
      await strict.encode("s-value", 1);
    } catch (e) {
      error = e;
    }
    expect(isPlatformError(error, "SUBJECT_NOT_FOUND")).toBe(true);
    await registry.register("s-value", JSON.stringify({ type: "integer" }), { schemaType: "JSON" });
    expect(strict.decode(await strict.encode("s-value", 1))).toBe(1);
  });
  test("a payload holding a real U+FFFD character still decodes (regression: in-place UTF-8 decoding)", async () => {
    const value = { sensor_id: "t_\uFFFD", value: 3 };
    expect(serde.decode(await serde.encode("city.sensors.raw-value", value))).toEqual(value);
  });

  test.each([
    ["NaN", Number.NaN],
    ["Infinity", Number.POSITIVE_INFINITY],
  ])("encode refuses %s where the schema wants a number", async (_name, reading) => {
    let error: unknown;
    try {
      await serde.encode("city.sensors.raw-value", { sensor_id: "t_1", value: reading });
    } catch (e) {
      error = e;
    }
    expect(isPlatformError(error, "SCHEMA_VIOLATION")).toBe(true);
  });
});

describe("write checks", () => {
  test("a value its subject's check is sure of is framed without the schema; the others are judged by the schema", async () => {
    const judged: unknown[] = [];
    const checking = new SchemaSerde(registry, {
      schemas: { "city.sensors.raw-value": readingSchema },
      writeChecks: new Map([
        [
          "city.sensors.raw-value",
          (value: unknown) => {
            judged.push(value);
            return (value as { value?: unknown }).value === 1;
          },
        ],
      ]),
    });
    const sure = { sensor_id: "t_1", value: 1 };
    expect(checking.decode(await checking.encode("city.sensors.raw-value", sure))).toEqual(sure);
    // not sure, but the schema accepts it: framed all the same
    const unsure = { sensor_id: "t_1", value: 2 };
    expect(checking.decode(await checking.encode("city.sensors.raw-value", unsure))).toEqual(unsure);
    // not sure, and the schema refuses it: its refusal, with the schema's pointer
    const refused = await checking
      .encode("city.sensors.raw-value", { sensor_id: "t_1", value: 99 })
      .catch((error: unknown) => error);
    expect(isPlatformError(refused, "SCHEMA_VIOLATION")).toBe(true);
    expect((refused as PlatformError).details?.pointer).toBe("#/value");
    expect(judged).toHaveLength(3);
  });
});

describe("trusted subjects", () => {
  test("encode frames a trusted subject's value without the check; decode still refuses it", async () => {
    const trusting = new SchemaSerde(registry, {
      schemas: { "city.sensors.raw-value": readingSchema },
      trustedSubjects: new Set(["city.sensors.raw-value"]),
    });
    const bytes = await trusting.encode("city.sensors.raw-value", { sensor_id: "t_1", value: 99 });
    expect(thrown(() => trusting.decode(bytes)).code).toBe("SCHEMA_VIOLATION");
    // another subject of the same serde is still checked on the way out
    await registry.register("other-value", JSON.stringify({ type: "string" }), { schemaType: "JSON" });
    const refused = await trusting.encode("other-value", 42).catch((error: unknown) => error);
    expect(isPlatformError(refused, "SCHEMA_VIOLATION")).toBe(true);
  });

  // The node trusts its readings subject because the edge parses every reading with
  // `SensorReading`; that holds only while whatever that schema accepts, the registered JSON
  // Schema accepts too. Each limit at both ends, and a seeded sweep inside them.
  test("every reading the edge's schema accepts passes the registered reading schema", async () => {
    const subject = "city.sensors.raw-value";
    const checking = new SchemaSerde(registry, { schemas: { [subject]: sensorReadingJsonSchema() } });
    const base = {
      traffic: { type: "traffic", vehicle_count: 3, avg_speed: 40.5, location: { lat: 40.7, lon: -74 } },
      environment: { type: "environment", temperature: 21.5, humidity: 40, air_quality_index: 50 },
      utility: { type: "utility", consumption: 1.5, voltage: 230, current: 5 },
    } as Record<string, Record<string, unknown>>;
    const candidates: Record<string, unknown>[] = [];
    const withField = (reading: Record<string, unknown>, field: string, value: number) =>
      field === "lat" || field === "lon"
        ? { ...reading, location: { ...(reading.location as object), [field]: value } }
        : { ...reading, [field]: value };
    for (const [type, fields] of Object.entries(base)) {
      for (const [field, [min, max]] of Object.entries(PHYSICAL_LIMITS)) {
        if (!(field in fields) && !((field === "lat" || field === "lon") && type === "traffic")) continue;
        for (const edge of [
          min,
          max,
          min === undefined ? -1e12 : undefined,
          max === undefined ? 1e12 : undefined,
        ])
          if (edge !== undefined) candidates.push(withField(fields, field, edge));
      }
    }
    let seed = 42;
    const random = () => {
      seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31;
      return seed / 2 ** 31;
    };
    for (let i = 0; i < 300; i++) {
      const type = (["traffic", "environment", "utility"] as const)[i % 3]!;
      const reading: Record<string, unknown> = { ...base[type] };
      for (const field of Object.keys(reading)) {
        if (field === "type") continue;
        if (field === "location") reading.location = { lat: random() * 180 - 90, lon: random() * 360 - 180 };
        else if (field === "vehicle_count") reading[field] = Math.floor(random() * 500);
        else if (field === "humidity") reading[field] = random() * 100;
        else reading[field] = random() * 1000 - (field === "consumption" ? 500 : 0);
      }
      candidates.push(reading);
    }
    const ids = ["t_1", "sensor.A-9", "0"];
    const timestamps = ["2024-01-01T00:00:00Z", "2024-02-29T23:59:59.123Z", "2024-06-01T12:00:00+02:00"];
    let accepted = 0;
    for (const [i, fields] of candidates.entries()) {
      const parsed = SensorReading.safeParse({
        ...fields,
        sensor_id: ids[i % 3],
        timestamp: timestamps[i % 3],
      });
      if (!parsed.success) continue;
      accepted++;
      const bytes = await checking.encode(subject, parsed.data);
      expect(checking.decode(bytes)).toEqual(parsed.data);
    }
    // the sweep is not vacuous: nearly every candidate is a reading
    expect(accepted).toBeGreaterThan(candidates.length * 0.9);
  });
});
