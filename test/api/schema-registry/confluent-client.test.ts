import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { SchemaRegistry as ConfluentClient, SchemaType } from "@kafkajs/confluent-schema-registry";
import { Hono } from "hono";
import { schemaRegistryRoutes } from "../../../api/schema-registry/routes.ts";
import { openLog } from "../../../log/index.ts";
import type { Log } from "../../../log/log.ts";
import { SchemaSerde } from "../../../messages/schema-registry/schema-serde.ts";
import { SchemaRegistry } from "../../../registries/schema-registry.ts";

/**
 * The third-party round trip the issue asks for: @kafkajs/confluent-schema-registry, unchanged,
 * talks to the registry served by Bun.serve over 127.0.0.1 (at the root and under a prefix).
 */
const reading = {
  type: "object",
  properties: { sensor_id: { type: "string" }, avg_speed: { type: "number", minimum: 0 } },
  required: ["sensor_id"],
};
const readingRequiringSpeed = { ...reading, required: ["sensor_id", "avg_speed"] };
const readingWithNote = { ...reading, properties: { ...reading.properties, note: {} } };

let dir: string;
let log: Log;
let registry: SchemaRegistry;
let server: ReturnType<typeof Bun.serve>;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "schema-registry-client-"));
  log = await openLog({ kind: "embedded", path: join(dir, "log.sqlite") });
  registry = await SchemaRegistry.open(log);
  const app = new Hono();
  app.route("/", schemaRegistryRoutes(registry));
  app.route("/schema-registry", schemaRegistryRoutes(registry));
  server = Bun.serve({ port: 0, hostname: "127.0.0.1", fetch: app.fetch });
});

afterAll(async () => {
  await server.stop(true);
  await log.close();
  rmSync(dir, { recursive: true, force: true });
});

describe.each([
  ["at the root", ""],
  ["under a prefix", "/schema-registry"],
])("@kafkajs/confluent-schema-registry against the registry %s", (_where, prefix) => {
  const subject = `speed${prefix.replaceAll("/", "-")}-value`;
  let client: ConfluentClient;
  beforeAll(() => {
    client = new ConfluentClient({ host: `http://127.0.0.1:${server.port}${prefix}`, retry: { retries: 0 } });
  });

  test("registers a JSON schema, encodes and decodes a value", async () => {
    const { id } = await client.register(
      { type: SchemaType.JSON, schema: JSON.stringify(reading) },
      { subject },
    );
    expect(registry.version(subject, "latest").id).toBe(id);
    expect(registry.subjectCompatibility(subject)).toBe("BACKWARD"); // the client set it on first registration
    const value = { sensor_id: "traffic_3", avg_speed: 42.5 };
    const bytes = await client.encode(id, value);
    expect(bytes[0]).toBe(0);
    expect(bytes.readInt32BE(1)).toBe(id);
    expect(await client.decode(bytes)).toEqual(value);
  });

  test("its bytes decode with our serde and ours decode with it", async () => {
    const id = await client.getLatestSchemaId(subject);
    const theirs = await client.encode(id, { sensor_id: "t_1", avg_speed: 1 });
    const serde = new SchemaSerde(registry);
    expect(serde.decode(theirs)).toEqual({ sensor_id: "t_1", avg_speed: 1 });
    const ours = await serde.encode(subject, { sensor_id: "t_2" });
    expect(await client.decode(Buffer.from(ours))).toEqual({ sensor_id: "t_2" });
  });

  test("looks a schema up by subject and content", async () => {
    const id = await client.getRegistryIdBySchema(subject, {
      type: SchemaType.JSON,
      schema: JSON.stringify(reading),
    });
    expect(id).toBe(await client.getLatestSchemaId(subject));
  });

  test("a compatible evolution gets a new version", async () => {
    const { id } = await client.register(
      { type: SchemaType.JSON, schema: JSON.stringify(readingWithNote) },
      { subject },
    );
    expect(registry.version(subject, "latest")).toMatchObject({ id, version: 2 });
  });

  test("an incompatible evolution is refused through the client with the rule it broke", async () => {
    let error: unknown;
    try {
      await client.register(
        { type: SchemaType.JSON, schema: JSON.stringify(readingRequiringSpeed) },
        { subject },
      );
    } catch (e) {
      error = e;
    }
    expect((error as { status?: number }).status).toBe(409);
    expect((error as Error).message).toContain(
      "BACKWARD: property 'avg_speed' became required at #/properties/avg_speed",
    );
    expect((error as Error).message).toContain("REQUIRED_ATTRIBUTE_ADDED");
    expect(registry.versions(subject)).toEqual([1, 2]);
  });

  test("an unknown schema id in a record is refused through the client", async () => {
    const bytes = Buffer.from([0, 0, 0, 0x7f, 0x7f, 0x7b, 0x7d]);
    let error: unknown;
    try {
      await client.decode(bytes);
    } catch (e) {
      error = e;
    }
    expect((error as { status?: number }).status).toBe(404);
  });
});
