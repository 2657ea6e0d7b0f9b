import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import mqtt from "mqtt";
import { FORECAST_FEATURES } from "../../ml/lifecycle/traffic-forecast-features.ts";
import { type RunningNode, startNode } from "../../node/start-node.ts";
import { eventually, testNodeConfig, trafficReading } from "./node-fixture.ts";

/**
 * A node's model lifecycle end to end, from an empty registry: while the offline store is short
 * of labelled rows the node says "no champion yet" (health, the models feed); once the lake's
 * gold windows hold enough, the first version trains on the feature store's point-in-time set
 * (on a worker), records the table version and the view versions it read, is registered as
 * champion and forecasts every closed window; the predict API answers with the version, refuses
 * hostile input with codes; an operator's retrain is one in flight; and a restarted node serves
 * the version it served before.
 */
const WINDOW_MS = 1000;
const SENSORS = ["traffic_m1", "traffic_m2", "traffic_m3", "traffic_m4"];
const MODEL = "traffic-forecast";

async function publishHistory(node: RunningNode, start: number, windows: number): Promise<void> {
  const client = await mqtt.connectAsync(node.mqttUrl);
  for (let w = 0; w < windows; w++) {
    for (const [s, sensor] of SENSORS.entries()) {
      const count = 20 + 10 * Math.sin(w / 4 + s) + s * 3;
      await client.publishAsync(
        `city/sensors/traffic/${sensor}`,
        JSON.stringify(trafficReading(sensor, start + w * WINDOW_MS + 100, Math.round(count), 40 + s)),
        {
          qos: 1,
        },
      );
    }
  }
  await client.endAsync();
}

describe("a node's models", () => {
  const dataDir = mkdtempSync(join(tmpdir(), "node-models-"));
  const config = testNodeConfig(dataDir, {
    windowMs: WINDOW_MS,
    commitIntervalMs: 100,
    models: "on",
    modelsFirstTrainingRows: 60,
    // the offline store the models train on: the lake's gold windows, read through the feature store
    ...{ lake: "on", lakeLingerMs: 100, lakeBatchSize: 50, features: "on" },
  });
  let node: RunningNode;
  const api = async (path: string, init: { method?: string; body?: unknown; raw?: string } = {}) => {
    const response = await fetch(`${node.apiUrl}${path}`, {
      method: init.method ?? (init.body === undefined && init.raw === undefined ? "GET" : "POST"),
      ...(init.body === undefined && init.raw === undefined
        ? {}
        : { headers: { "content-type": "application/json" }, body: init.raw ?? JSON.stringify(init.body) }),
    });
    // biome-ignore lint/suspicious/noExplicitAny: the test reads JSON answers field by field
    return { status: response.status, body: (await response.json()) as Record<string, any> };
  };
  const served = async () => (await api(`/api/models/${MODEL}`)).body;

  const historyStart = Math.floor((Date.now() - 3_600_000) / WINDOW_MS) * WINDOW_MS;
  let healthBefore: Record<string, { ok: boolean; reason?: string }>;
  beforeAll(async () => {
    node = await startNode(config);
    healthBefore = ((await (await fetch(`${node.apiUrl}/health`)).json()) as { checks: typeof healthBefore })
      .checks;
    await publishHistory(node, historyStart, 40);
  });
  afterAll(async () => {
    await node.stop();
    rmSync(dataDir, { recursive: true, force: true });
  });

  test("before enough labelled rows the node says so: no champion yet, and still healthy", () => {
    expect(healthBefore[`model ${MODEL}`]).toEqual({
      ok: true,
      reason: expect.stringMatching(
        /^no champion yet: the first version trains once the offline store holds 60 labelled rows/,
      ),
    });
  });

  test("the first version trains on the feature store's set over the lake, becomes champion and is served", async () => {
    const model = await eventually(served, (m) => m.policy?.kind === "single", 60_000);
    expect(model.policy).toEqual({ kind: "single", version: "1" });
    expect(model.aliases).toEqual({ champion: "1" });
    expect(model.registered[0].source).toMatch(/^runs:\/[0-9a-f]{32}\/model$/);
    expect(model.transitions[0]).toMatchObject({
      alias: "champion",
      to: "1",
      by: "node",
      reason: "first version of the model",
    });
    expect(model.events.map((e: { type: string }) => e.type)).toEqual(
      expect.arrayContaining(["no-champion", "retrain-triggered", "registered", "deployed", "promoted"]),
    );
    const registered = model.events.find((e: { type: string }) => e.type === "registered");
    expect(registered.reason).toMatch(/^trained on gold_sensor_windows@\d+$/);
    // the run names the training set's table version and the feature view versions it joined
    const health = (await (await fetch(`${node.apiUrl}/health`)).json()) as { checks: typeof healthBefore };
    expect(health.checks[`model ${MODEL}`]).toEqual({ ok: true });
    const list = await api("/api/models");
    expect(list.body.models.map((m: { name: string }) => m.name)).toEqual([MODEL]);
  });

  test("predict answers one row and a batch with the version that answered", async () => {
    const row = FORECAST_FEATURES.map((_, i) => (i === 3 ? 25 : 1));
    const one = await api(`/api/models/${MODEL}/predict`, { body: { row } });
    expect(one.status).toBe(200);
    expect(one.body.predictions).toEqual([{ value: expect.any(Number), version: "1" }]);
    const batch = await api(`/api/models/${MODEL}/predict`, { body: { rows: [row, row, row] } });
    expect(batch.body.predictions).toHaveLength(3);
  });

  test.each([
    ["bad JSON", { raw: "{not json" }, 400, "BAD_REQUEST"],
    ["a row of the wrong shape", { body: { row: [1, 2] } }, 400, "FEATURE_MISSING"],
    ["a string feature", { body: { row: FORECAST_FEATURES.map(() => "1") } }, 400, "BAD_REQUEST"],
    [
      "a batch past 10,000 rows",
      { body: { rows: Array.from({ length: 10_001 }, () => [1]) } },
      400,
      "BAD_REQUEST",
    ],
    ["neither row nor rows", { body: { x: 1 } }, 400, "BAD_REQUEST"],
  ])("predict refuses %s with a code and no internals", async (_name, init, status, code) => {
    const answer = await api(`/api/models/${MODEL}/predict`, init);
    expect(answer.status).toBe(status);
    expect(answer.body.error.code).toBe(code);
    expect(JSON.stringify(answer.body)).not.toMatch(/at \/|\.ts:/);
  });

  test("unknown models, bad names and invalid policies are clear errors", async () => {
    expect((await api("/api/models/absent/predict", { body: { row: [1] } })).body.error.code).toBe(
      "MODEL_NOT_FOUND",
    );
    expect((await api("/api/models/a%20b")).status).toBe(400);
    const invalid = await api(`/api/models/${MODEL}/policy`, {
      method: "PUT",
      body: { kind: "canary", champion: "1", canary: "1", share: 2 },
    });
    expect(invalid.status).toBe(400);
    expect(invalid.body.error.code).toBe("ROUTING_POLICY_INVALID");
    const missing = await api(`/api/models/${MODEL}/policy`, {
      method: "PUT",
      body: { kind: "single", version: "9" },
    });
    expect(missing.status).toBe(404);
    expect((await api(`/api/models/${MODEL}/promote`, { body: { version: "1" } })).body.error.code).toBe(
      "BAD_REQUEST",
    );
  });

  test("every closed window after the champion is forecast by it and published as a prediction", async () => {
    // windows that close now: the champion forecasts each sensor's next one
    await publishHistory(node, historyStart + 40 * WINDOW_MS, 5);
    const predictions = await eventually(
      () => node.view.recentPredictions(1000).filter((p) => p.model === MODEL),
      (p) => p.length >= SENSORS.length * 4,
    );
    expect(predictions.every((p) => p.model_version === "1")).toBe(true);
    expect(Object.keys(predictions[0]!.features)).toContain("vehicle_count_lag1");
  });

  test("per-version metrics are in /metrics", async () => {
    const text = await (await fetch(`${node.apiUrl}/metrics`)).text();
    expect(text).toMatch(/platform_model_requests\{model="traffic-forecast",version="1"\} [1-9]/);
    expect(text).toMatch(/platform_model_live_mae\{model="traffic-forecast",version="1"\}/);
    expect(text).toContain("platform_model_error_drift_detections");
  });

  test("an operator's retrain starts one job; a second while it runs is refused; the models feed carries each step", async () => {
    const socket = new WebSocket(`${node.apiUrl.replace(/^http/, "ws")}/ws`);
    const messages: {
      type?: string;
      feed?: string;
      feeds?: string[];
      data?: { type: string; model: string };
    }[] = [];
    socket.onmessage = (event) => messages.push(JSON.parse(String(event.data)));
    await new Promise<void>((resolve, reject) => {
      socket.onopen = () => resolve();
      socket.onerror = () => reject(new Error("the feed did not open"));
    });
    socket.send(JSON.stringify({ op: "subscribe", feeds: ["models"] }));
    await eventually(
      () => messages.length,
      (n) => n > 0,
    );
    expect(messages[0]).toEqual({ type: "subscribed", feeds: ["models"] });
    const first = await api(`/api/models/${MODEL}/retrain`, { body: { reason: "test" } });
    const second = await api(`/api/models/${MODEL}/retrain`, { body: { reason: "test again" } });
    expect(first.status).toBe(202);
    expect(second.status).toBe(409);
    const model = await eventually(
      served,
      (m) => m.registered.length === 2 && m.stage !== "training",
      60_000,
    );
    expect(model.registered.map((v: { version: string }) => v.version)).toEqual(["1", "2"]);
    const steps = await eventually(
      () => messages.filter((m) => m.feed === "models").map((m) => m.data!.type),
      (types) => types.includes("shadow-started") || types.includes("retrain-failed"),
    );
    socket.close();
    expect(steps.slice(0, 2)).toEqual(["retrain-triggered", "retrain-skipped"]);
    expect(steps).toContain("registered");
    expect(steps).toContain("shadow-started");
  });

  test("a restarted node serves what it served before, before any new training", async () => {
    const before = (await served()).policy;
    await node.stop();
    node = await startNode(config);
    const after = await served();
    expect(after.policy).toEqual(before);
  });
});

/**
 * The utility forecast on a node: hours of utility readings (one every 10 minutes per sensor)
 * reach the lake's gold windows; once enough closed hours are there, the first version trains on
 * the feature store's set and serves; each hour that closes afterwards labels the forecast made
 * for it (live error) and the next hour is forecast.
 */
describe("a node's utility forecast", () => {
  const UTILITY = "utility-forecast";
  const sensors = ["utility_m1", "utility_m2", "utility_m3"];
  const dataDir = mkdtempSync(join(tmpdir(), "node-utility-"));
  const config = testNodeConfig(dataDir, {
    windowMs: WINDOW_MS,
    commitIntervalMs: 100,
    models: "on",
    modelsUtilityFirstTrainingRows: 20,
    ...{ lake: "on", lakeLingerMs: 100, lakeBatchSize: 50, features: "on" },
  });
  let node: RunningNode;
  const hour0 = Math.floor((Date.now() - 20 * 3_600_000) / 3_600_000) * 3_600_000;
  const publishHours = async (from: number, hours: number) => {
    const client = await mqtt.connectAsync(node.mqttUrl);
    for (let h = from; h < from + hours; h++)
      for (let m = 0; m < 6; m++)
        for (const [s, sensor] of sensors.entries()) {
          const at = hour0 + h * 3_600_000 + m * 600_000;
          const consumption = 100 + 40 * s + 30 * Math.sin((2 * Math.PI * h) / 24) + m;
          await client.publishAsync(
            `city/sensors/utility/${sensor}`,
            JSON.stringify({
              type: "utility",
              sensor_id: sensor,
              timestamp: new Date(at).toISOString(),
              consumption,
              voltage: 230,
              current: consumption / 230,
            }),
            { qos: 1 },
          );
        }
    await client.endAsync();
  };
  const model = async () => {
    const response = await fetch(`${node.apiUrl}/api/models/${UTILITY}`);
    // biome-ignore lint/suspicious/noExplicitAny: the test reads JSON answers field by field
    return { status: response.status, body: (await response.json()) as Record<string, any> };
  };

  beforeAll(async () => {
    node = await startNode(config);
    await publishHours(0, 12);
  });
  afterAll(async () => {
    await node.stop();
    rmSync(dataDir, { recursive: true, force: true });
  });

  test("the first version trains on closed hours from the lake, then each closing hour is labelled and the next forecast", async () => {
    const trained = await eventually(model, (m) => m.body.policy?.kind === "single", 90_000);
    expect(trained.body.aliases).toEqual({ champion: "1" });
    const registered = trained.body.events.find((e: { type: string }) => e.type === "registered");
    expect(registered.reason).toMatch(/^trained on gold_sensor_windows@\d+$/);
    // five more hours: the first of them closes the last hour trained on, and each closes the one before
    await publishHours(12, 5);
    const predictions = await eventually(
      () => node.view.recentPredictions(1000).filter((p) => p.model === UTILITY),
      (p) => p.length >= 3 * 3,
      60_000,
    );
    for (const p of predictions) {
      expect(p.model_version).toBe("1");
      expect(p.window_end - p.window_start).toBe(3_600_000);
      expect(p.window_start % 3_600_000).toBe(0);
      expect(p.features.consumption_prev_hour).toBeGreaterThan(50);
    }
    const labelled = await eventually(
      model,
      (m) => (m.body.versions?.[0]?.live?.outcomes ?? 0) >= 3 * 2,
      60_000,
    );
    expect(labelled.body.versions[0].live.outcomes).toBeGreaterThanOrEqual(6);
    expect(labelled.body.versions[0].live.recentMae).toBeGreaterThanOrEqual(0);
  });
});
