import { afterEach, beforeEach, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { openLog } from "../../../log/index.ts";
import type { Log } from "../../../log/log.ts";
import { type RecordCodec, registryCodec } from "../../../messages/codec/record-codec.ts";
import { ErrorCodes, isPlatformError } from "../../../messages/errors.ts";
import { SchemaSerde } from "../../../messages/schema-registry/schema-serde.ts";
import { SchemaRegistry } from "../../../registries/schema-registry.ts";

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
});
