import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import mqtt from "mqtt";
import { payloadOf } from "../../messages/schema-registry/wire-format.ts";
import { Topics } from "../../messages/topics.ts";
import { WindowResult } from "../../messages/window-result.ts";
import type { RunningNode } from "../../node/start-node.ts";
import { eventually, startTestNode, trafficReading } from "./node-fixture.ts";

/**
 * A node with its feature store on: the city's views are registered and listed by the API, and
 * the per-sensor window features are in the online store as the windows close, with the values
 * of the final windows on city.processed.traffic; bad requests get clear errors.
 */
const WINDOW_MS = 10_000;
const SENSORS = ["traffic_fs1", "traffic_fs2", "traffic_fs3"];
const decoder = new TextDecoder();

async function publish(node: RunningNode, messages: [string, string][]): Promise<void> {
  const client = await mqtt.connectAsync(node.mqttUrl);
  for (const [topic, payload] of messages) await client.publishAsync(topic, payload, { qos: 1 });
  await client.endAsync();
}

/** the parts of the API's answers these tests read */
interface Answer {
  views: { name: string }[];
  onlineStore: string;
  versions: { version: number; lineage: unknown; definition: Record<string, unknown> }[];
  definition: { description: string };
  results: {
    entity: string;
    status: string;
    eventTime: number | null;
    values: Record<string, number | boolean | null>;
  }[];
  error: { code: string; message: string };
}

describe("a node's feature store", () => {
  let node: RunningNode;
  let cleanup: () => Promise<void>;
  const start = Math.floor((Date.now() - 600_000) / WINDOW_MS) * WINDOW_MS;
  const get = async (path: string) => {
    const response = await fetch(`${node.apiUrl}${path}`);
    return { status: response.status, body: (await response.json()) as Answer };
  };

  beforeAll(async () => {
    ({ node, cleanup } = await startTestNode({ windowMs: WINDOW_MS, commitIntervalMs: 100, features: "on" }));
    const messages: [string, string][] = [];
    for (const sensor of SENSORS)
      for (let i = 0; i < 20; i++)
        messages.push([
          `city/sensors/traffic/${sensor}`,
          JSON.stringify(trafficReading(sensor, start + i * 1000, 10 + i, 30 + (i % 7))),
        ]);
    // a later reading per sensor closes the first two windows of each
    for (const sensor of SENSORS)
      messages.push([
        `city/sensors/traffic/${sensor}`,
        JSON.stringify(trafficReading(sensor, start + 5 * WINDOW_MS, 5)),
      ]);
    await publish(node, messages);
  }, 60_000);
  afterAll(() => cleanup());

  test("the city's views are registered and listed, searchable by entity and tag", async () => {
    const all = await get("/api/features");
    expect(all.status).toBe(200);
    expect(all.body.views.map((v) => v.name)).toContain("sensor_traffic_window");
    expect(all.body.onlineStore).toBe("embedded");
    const districts = await get("/api/features?entity=district&tag=type%3Dtraffic");
    expect(districts.body.views.map((v) => v.name)).toEqual(["district_traffic_hourly"]);
    const one = await get("/api/features/sensor_traffic_window");
    expect(one.body.versions[0]).toMatchObject({ version: 1, lineage: { table: "gold_sensor_windows" } });
  });

  test("closed windows are served online with the values of the final windows on the log", async () => {
    const path = `/api/features/online?view=sensor_traffic_window&entities=${SENSORS.join(",")}`;
    const served = await eventually(
      () => get(path),
      (r) =>
        r.body.results?.every((x: { eventTime: number | null }) => x.eventTime === start + 2 * WINDOW_MS),
      30_000,
    );
    expect(served.status).toBe(200);
    // the last final window per sensor on the log, as the view maps it
    const finals = new Map<string, WindowResult>();
    const partitions = (await node.log.partitions(Topics.processed("traffic"))) ?? 0;
    for (let partition = 0; partition < partitions; partition++)
      for (const record of await node.log.read(
        { topic: Topics.processed("traffic"), partition },
        { maxRecords: 10_000 },
      )) {
        const bytes = record.value!;
        const w = WindowResult.parse(JSON.parse(decoder.decode(bytes[0] === 0 ? payloadOf(bytes) : bytes)));
        if (w.scope === "sensor" && w.final && w.window_end >= (finals.get(w.key)?.window_end ?? 0))
          finals.set(w.key, w);
      }
    for (const result of served.body.results) {
      const w = finals.get(result.entity)!;
      expect(result.status).toBe("PRESENT");
      expect(result.values).toEqual({
        reading_count: w.count,
        vehicle_count_mean: w.fields.vehicle_count!.mean,
        vehicle_count_min: w.fields.vehicle_count!.min,
        vehicle_count_max: w.fields.vehicle_count!.max,
        avg_speed_mean: w.fields.avg_speed!.mean,
        avg_speed_min: w.fields.avg_speed!.min,
        avg_speed_max: w.fields.avg_speed!.max,
      });
    }
    const metrics = await (await fetch(`${node.apiUrl}/metrics`)).text();
    expect(metrics).toMatch(
      /platform_feature_freshness_seconds\{view="sensor_traffic_window",version="1"\} \d/,
    );
  });

  test("an on-demand view computes from the stored features and the request", async () => {
    const ok = await eventually(
      () =>
        get(`/api/features/online?view=traffic_speed_vs_limit&entities=${SENSORS[0]}&request.speed_limit=30`),
      (r) => r.body.results?.[0]?.status === "PRESENT",
    );
    const speed = (await get(`/api/features/online?view=sensor_traffic_window&sensor_id=${SENSORS[0]}`)).body
      .results[0].values.avg_speed_mean;
    expect(ok.body.results[0]?.values).toEqual({
      speed_ratio: (speed as number) / 30,
      speeding: (speed as number) > 30,
    });
  });

  const hostile: [string, string, number, string][] = [
    ["an unknown view", "/api/features/online?view=nope&entities=a", 404, "FEATURE_VIEW_NOT_FOUND"],
    ["an unknown view's page", "/api/features/nope", 404, "FEATURE_VIEW_NOT_FOUND"],
    ["an unknown version", "/api/features/sensor_traffic_window/versions/99", 404, "FEATURE_VIEW_NOT_FOUND"],
    ["a bad version", "/api/features/sensor_traffic_window/versions/x1", 400, "BAD_REQUEST"],
    ["no view", "/api/features/online?entities=a", 400, "BAD_REQUEST"],
    ["no entity", "/api/features/online?view=sensor_traffic_window", 400, "BAD_REQUEST"],
    [
      "another entity's join key",
      "/api/features/online?view=sensor_traffic_window&district=north",
      400,
      "FEATURE_ENTITY_UNKNOWN",
    ],
    [
      "a feature the view lacks",
      "/api/features/online?view=sensor_traffic_window&entities=a&features=nope",
      400,
      "FEATURE_MISSING",
    ],
    [
      "too many entities",
      `/api/features/online?view=sensor_traffic_window&entities=${Array(1001).fill("x").join(",")}`,
      400,
      "OUT_OF_RANGE",
    ],
    [
      "an on-demand view without its request data",
      "/api/features/online?view=traffic_speed_vs_limit&entities=a",
      400,
      "BAD_REQUEST",
    ],
    [
      "on-demand request data of the wrong type",
      "/api/features/online?view=traffic_speed_vs_limit&entities=a&request.speed_limit=fast",
      400,
      "BAD_REQUEST",
    ],
    ["a search parameter twice", "/api/features?q=a&q=b", 400, "BAD_REQUEST"],
  ];
  for (const [what, path, status, code] of hostile)
    test(`${what} is answered ${status} ${code}`, async () => {
      const answer = await get(path);
      expect(answer.status).toBe(status);
      expect(answer.body.error.code).toBe(code);
      expect(answer.body.error.message).not.toMatch(/\.ts:\d|\n/);
    });

  test("unknown entities are NOT_FOUND, one status per entity", async () => {
    const answer = await get(
      `/api/features/online?view=sensor_traffic_window&entities=${SENSORS[0]},never_seen`,
    );
    expect(answer.body.results.map((r) => r.status)).toEqual(["PRESENT", "NOT_FOUND"]);
  });

  const writes: [string, unknown, number, string][] = [
    ["a definition that is not JSON", "{nope", 400, "MALFORMED_JSON"],
    ["a definition that is not a view", { name: "x" }, 400, "FEATURE_VIEW_INVALID"],
    [
      "a view over columns its table does not have",
      {
        name: "broken_view",
        entity: "sensor_id",
        owner: "tests",
        ttlMs: 1000,
        source: { table: "gold_sensor_windows", entityColumn: "key", timestampColumn: "window_end" },
        features: [{ name: "nope", type: "double" }],
      },
      409,
      "FEATURE_VIEW_INCOMPATIBLE",
    ],
    ["a materialization range that ends before it starts", { from: 10, to: 5 }, 400, "OUT_OF_RANGE"],
  ];
  for (const [what, body, status, code] of writes)
    test(`${what} is answered ${status} ${code}`, async () => {
      const path =
        code === "OUT_OF_RANGE" ? "/api/features/sensor_traffic_window/materialize" : "/api/features/views";
      const response = await fetch(`${node.apiUrl}${path}`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: typeof body === "string" ? body : JSON.stringify(body),
      });
      expect(response.status).toBe(status);
      expect(((await response.json()) as { error: { code: string } }).error.code).toBe(code);
    });

  test("a new definition registered through the API is the next version; the old one stays readable", async () => {
    const current = (await get("/api/features/sensor_traffic_window")).body.versions[0].definition;
    const response = await fetch(`${node.apiUrl}/api/features/views`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ ...current, description: "with a new description" }),
    });
    expect(response.status).toBe(201);
    expect(((await response.json()) as { version: number }).version).toBe(2);
    expect((await get("/api/features/sensor_traffic_window/versions/1")).body.definition.description).toBe(
      current?.description as string,
    );
  });
});
