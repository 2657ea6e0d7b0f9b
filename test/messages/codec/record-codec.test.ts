import { afterEach, beforeEach, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { openLog } from "../../../log/index.ts";
import type { Log } from "../../../log/log.ts";
import { type RecordCodec, registryCodec } from "../../../messages/codec/record-codec.ts";
import {
  type JsonReadingFields,
  readSensorReadingJson,
} from "../../../messages/codec/sensor-reading-json.ts";
import { ErrorCodes, isPlatformError } from "../../../messages/errors.ts";
import { subjectOf } from "../../../messages/platform-schemas.ts";
import { SchemaSerde } from "../../../messages/schema-registry/schema-serde.ts";
import { frame, HEADER_BYTES, schemaIdOf } from "../../../messages/schema-registry/wire-format.ts";
import { sensorReadingJsonSchema } from "../../../messages/sensor-reading.ts";
import { SchemaRegistry } from "../../../registries/schema-registry.ts";
import * as readings from "./reading-json-cases.ts";
import { json, mutatedReadings, readingJsonRows, schemaAnswer } from "./reading-json-cases.ts";

const topic = "city.sensors.raw";
const schema = {
  type: "object",
  properties: { sensor_id: { type: "string" }, tags: { type: "array", items: { type: "string" } } },
  required: ["sensor_id"],
};

describe("the registry codec's decode", () => {
  let dir: string;
  let log: Log;
  let serde: SchemaSerde;
  let codec: RecordCodec;

  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), "record-codec-"));
    log = await openLog({ kind: "embedded", path: join(dir, "log.sqlite") });
    serde = new SchemaSerde(await SchemaRegistry.open(log), { schemas: { [`${topic}-value`]: schema } });
    codec = registryCodec(serde, new Set([topic]));
  });
  afterEach(async () => {
    await log.close();
    rmSync(dir, { recursive: true, force: true });
  });

  test("the same bytes, read by several consumer groups, are parsed and checked once", async () => {
    const bytes = await codec.encode(topic, { sensor_id: "s1", tags: ["a"] });
    let checks = 0;
    const decode = serde.decode.bind(serde);
    serde.decode = (value) => {
      checks++;
      return decode(value);
    };
    const first = codec.decode(bytes);
    expect(codec.decode(bytes)).toBe(first);
    expect(checks).toBe(1);
    // equal bytes in another buffer (another read from SQLite) are decoded on their own
    expect(codec.decode(bytes.slice())).toEqual(first);
    expect(checks).toBe(2);
  });

  test("a shared decoded value is frozen to its leaves, so no group can change another's", async () => {
    const value = codec.decode(await codec.encode(topic, { sensor_id: "s1", tags: ["a"] })) as {
      sensor_id: string;
      tags: string[];
    };
    expect(Object.isFrozen(value)).toBe(true);
    expect(Object.isFrozen(value.tags)).toBe(true);
    expect(() => value.tags.push("b")).toThrow();
  });

  test("a value that fails its schema fails every time it is read, with SCHEMA_VIOLATION", async () => {
    const bytes = await codec.encode(topic, { sensor_id: "s1" });
    // same schema id, a payload the schema refuses (as another producer could write)
    const bad = new Uint8Array([...bytes.subarray(0, 5), ...new TextEncoder().encode('{"tags":[]}')]);
    for (let i = 0; i < 2; i++) {
      let error: unknown;
      try {
        codec.decode(bad);
      } catch (caught) {
        error = caught;
      }
      expect(isPlatformError(error, ErrorCodes.SCHEMA_VIOLATION)).toBe(true);
    }
  });

  test("a value handed over at encode is what a decode of its very bytes answers: frozen, not parsed or checked again", async () => {
    const value = { sensor_id: "s1", tags: ["a", "b"] };
    const bytes = await codec.encode(topic, value, { handOver: true });
    let decodes = 0;
    const decode = serde.decode.bind(serde);
    serde.decode = (framed) => {
      decodes++;
      return decode(framed);
    };
    expect(codec.decode(bytes)).toBe(value);
    expect(decodes).toBe(0);
    expect(Object.isFrozen(value) && Object.isFrozen(value.tags)).toBe(true);
    // the same JSON in other bytes (a read from SQLite, another process) is decoded from them
    const again = codec.decode(bytes.slice());
    expect(again).not.toBe(value);
    expect(again).toEqual(value);
    expect(decodes).toBe(1);
  });

  test.each([
    ["an undefined field", { sensor_id: "s1", tags: undefined }],
    ["a number JSON cannot write", { sensor_id: "s1", score: Number.NaN }],
    ["negative zero", { sensor_id: "s1", score: -0 }],
    ["an array with a hole", { sensor_id: "s1", extra: Object.assign(new Array<number>(3), { 0: 1, 2: 3 }) }],
    ["a class instance", { sensor_id: "s1", at: new Date(0) }],
    ["a toJSON", { sensor_id: "s1", extra: { toJSON: () => ["x"] } }],
  ])(
    "a handed-over value with %s is decoded from its bytes, as a JSON round trip makes it",
    async (_, value) => {
      const bytes = await codec.encode(topic, value, { handOver: true });
      const decoded = codec.decode(bytes);
      expect(decoded).not.toBe(value);
      expect(decoded).toEqual(JSON.parse(JSON.stringify(value)));
    },
  );

  test("a value its schema refuses is refused when handed over too, and nothing is remembered for it", async () => {
    const value = { tags: ["a"] };
    let error: unknown;
    try {
      await codec.encode(topic, value, { handOver: true });
    } catch (caught) {
      error = caught;
    }
    expect(isPlatformError(error, ErrorCodes.SCHEMA_VIOLATION)).toBe(true);
    expect(Object.isFrozen(value)).toBe(false);
  });
});

describe("the registry codec's reading JSON start", () => {
  let dir: string;
  let log: Log;
  let codec: RecordCodec;
  let readingId: number;
  let otherId: number;

  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), "record-codec-reading-"));
    log = await openLog({ kind: "embedded", path: join(dir, "log.sqlite") });
    // the node's own reading schema under the raw topic's subject, and a looser one elsewhere
    const serde = new SchemaSerde(await SchemaRegistry.open(log), {
      schemas: { [subjectOf(topic)]: sensorReadingJsonSchema(), "loose-value": schema },
    });
    codec = registryCodec(serde, new Set([topic, "loose"]));
    readingId = schemaIdOf(await codec.encode(topic, readings.traffic));
    otherId = schemaIdOf(await codec.encode("loose", { sensor_id: "s1" }));
  });
  afterEach(async () => {
    await log.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const framed = (id: number, text: string | Uint8Array) =>
    frame(id, typeof text === "string" ? new TextEncoder().encode(text) : text);

  test.each([
    ["a plain JSON value", () => new TextEncoder().encode(json(readings.traffic)), 0],
    ["a value framed with the reading schema", () => framed(readingId, json(readings.traffic)), HEADER_BYTES],
    ["a value framed with another schema", () => framed(otherId, json(readings.traffic)), -1],
    ["a value framed with an unknown schema id", () => framed(9_999, json(readings.traffic)), -1],
    ["a bare header", () => framed(readingId, ""), -1],
    ["an empty value", () => new Uint8Array(), -1],
    ["a value of another magic byte", () => new Uint8Array([1, 0, 0, 0, 1, 0x7b]), -1],
  ])("%s: where the reader may start", (_, bytes, start) => {
    expect(codec.readingJsonStart?.(bytes())).toBe(start);
  });

  // the reader reads a framed reading in decode's place: whatever it answers, decode (JSON.parse
  // and the registered JSON Schema) then the reading schema answer the same
  function expectDecodeAgrees(payload: string | Uint8Array): boolean {
    const bytes = framed(readingId, payload);
    const start = codec.readingJsonStart?.(bytes) ?? -1;
    const into: JsonReadingFields = { type: "traffic", sensorId: "", eventTime: 0, values: [] };
    if (start < 0 || !readSensorReadingJson(bytes, start, into)) return false;
    expect(() => codec.decode(bytes)).not.toThrow();
    expect(into).toEqual(schemaAnswer(bytes.subarray(HEADER_BYTES))!);
    return true;
  }

  test.each(readingJsonRows)("%s: the reader answers as the registered schema, or defers", (_, text) => {
    expectDecodeAgrees(text);
  });

  test("the reader answers as the registered schema over 10,000 mutated readings", () => {
    let answered = 0;
    for (const payload of mutatedReadings(10_000)) if (expectDecodeAgrees(payload)) answered++;
    expect(answered).toBeGreaterThan(300);
  });
});
