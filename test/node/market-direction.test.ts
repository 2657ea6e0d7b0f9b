import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ModelOutcome } from "../../messages/prediction.ts";
import { payloadOf } from "../../messages/schema-registry/wire-format.ts";
import { Topics } from "../../messages/topics.ts";
import { DIRECTION_FEATURES, MARKET_DIRECTION } from "../../ml/market/direction-features.ts";
import { type RunningNode, startNode } from "../../node/start-node.ts";
import { SYMBOLS, startTestMarket } from "../sources/market/market-fixture.ts";
import { eventually, testNodeConfig } from "./node-fixture.ts";

/**
 * The market model on a whole node: the official SDK streams the Alpaca-protocol simulator (a
 * market minute each wall second); a fresh node warms up recent history, the symbol actors build
 * each minute's indicators, the lake and the feature store take them, the first version of the
 * direction classifier trains on the point-in-time set, is registered champion and served; every
 * closed minute is forecast and labelled by the next, and each version's live precision, recall,
 * F1 and AUC reach /metrics.
 */
describe("a node's market model", () => {
  const market = startTestMarket({ speed: 60, tradesPerMinute: 30 });
  const dataDir = mkdtempSync(join(tmpdir(), "market-direction-node-"));
  const config = testNodeConfig(dataDir, {
    market: "on",
    marketSources: "alpaca,simulator",
    alpacaKeyId: "test-key-id",
    alpacaSecretKey: "test-secret-key",
    alpacaDataUrl: market.sim.url,
    alpacaStreamUrl: market.sim.streamUrl,
    marketSymbols: SYMBOLS.join(","),
    lake: "on",
    lakeLingerMs: 200,
    features: "on",
    models: "on",
    marketModelWarmupMinutes: 240,
    marketModelFirstTrainingRows: 300,
    commitIntervalMs: 200,
  });
  let node: RunningNode;
  const api = async (path: string, body?: unknown) => {
    const response = await fetch(`${node.apiUrl}${path}`, {
      method: body === undefined ? "GET" : "POST",
      ...(body === undefined
        ? {}
        : { headers: { "content-type": "application/json" }, body: JSON.stringify(body) }),
    });
    // biome-ignore lint/suspicious/noExplicitAny: the test reads JSON answers field by field
    return { status: response.status, body: (await response.json()) as Record<string, any> };
  };

  beforeAll(async () => {
    node = await startNode(config);
  });
  afterAll(async () => {
    await node?.stop();
    await market.sim.stop();
    rmSync(dataDir, { recursive: true, force: true });
  });

  test("the first version trains on the feature store's set, is registered champion and served", async () => {
    const model = await eventually(
      async () => (await api(`/api/models/${MARKET_DIRECTION}`)).body,
      (m) => m.policy?.kind === "single",
      120_000,
    );
    expect(model.aliases).toEqual({ champion: "1" });
    expect(model.stage).toBe("idle");
    const registered = model.registered[0];
    expect(registered.tags.learner).toBe("gradient-boosting");
    expect(Number(registered.tags.holdout_mae)).toBeGreaterThan(0);
    // a classifier's own holdout figures, kept with the version (and logged on its run)
    expect(Number(registered.tags.holdout_log_loss)).toBeGreaterThan(0);
    expect(Number(registered.tags.holdout_auc)).toBeGreaterThan(0);
    expect(registered.tags["training_set.version"]).not.toBe("none");
    expect(model.events.map((e: { type: string }) => e.type)).toEqual(
      expect.arrayContaining(["retrain-triggered", "registered", "deployed", "promoted"]),
    );
  }, 150_000);

  test("the predict API answers a probability and the version that answered", async () => {
    const row = DIRECTION_FEATURES.map((_, i) => (i === 1 ? 55 : 0.001));
    const answer = await api(`/api/models/${MARKET_DIRECTION}/predict`, { row });
    expect(answer.status).toBe(200);
    expect(answer.body.predictions).toEqual([{ value: expect.any(Number), version: "1" }]);
    const p = answer.body.predictions[0].value as number;
    expect(p).toBeGreaterThan(0);
    expect(p).toBeLessThan(1);
    const refused = await api(`/api/models/${MARKET_DIRECTION}/predict`, { row: [1, 2] });
    expect(refused.status).toBe(400);
    expect(refused.body.error.code).toBe("FEATURE_MISSING");
  });

  test("closed minutes are forecast and labelled: live precision, recall, F1 and AUC per version in /metrics", async () => {
    const metric = (text: string, name: string) =>
      new RegExp(`^${name}\\{model="${MARKET_DIRECTION}",version="1"\\} ([0-9.e-]+)$`, "m").exec(text)?.[1];
    const text = await eventually(
      async () => (await fetch(`${node.apiUrl}/metrics`)).text(),
      (t) =>
        metric(t, "platform_model_live_auc") !== undefined &&
        Number(metric(t, "platform_model_live_outcomes")) >= 20,
      90_000,
    );
    for (const name of [
      "platform_model_live_precision",
      "platform_model_live_recall",
      "platform_model_live_f1",
    ]) {
      const value = Number(metric(text, name));
      expect(value).toBeGreaterThanOrEqual(0);
      expect(value).toBeLessThanOrEqual(1);
    }
    const auc = Number(metric(text, "platform_model_live_auc"));
    expect(auc).toBeGreaterThanOrEqual(0);
    expect(auc).toBeLessThanOrEqual(1);
    // the same outcomes as the regression figures every model has
    expect(Number(metric(text, "platform_model_live_mae"))).toBeGreaterThan(0);
  }, 120_000);

  test("the models feed carries each version's live classification figures", async () => {
    const socket = new WebSocket(`${node.apiUrl.replace(/^http/, "ws")}/ws`);
    // biome-ignore lint/suspicious/noExplicitAny: the test reads feed messages field by field
    const messages: any[] = [];
    socket.onmessage = (event) => messages.push(JSON.parse(String(event.data)));
    await new Promise<void>((resolve, reject) => {
      socket.onopen = () => resolve();
      socket.onerror = () => reject(new Error("the feed did not open"));
    });
    socket.send(JSON.stringify({ op: "subscribe", feeds: ["models"] }));
    try {
      const isFigures = (m: { data?: { type?: string } }) => m.data?.type === "live-classification";
      // published every 10 s
      await eventually(
        () => messages.filter(isFigures).length,
        (n) => n > 0,
        25_000,
      );
      const figures = messages.find(isFigures).data;
      expect(figures).toMatchObject({ model: MARKET_DIRECTION, version: "1" });
      expect(figures.outcomes).toBeGreaterThan(0);
      for (const key of ["recentPrecision", "recentRecall", "recentF1"]) {
        expect(figures[key]).toBeGreaterThanOrEqual(0);
        expect(figures[key]).toBeLessThanOrEqual(1);
      }
      // AUC is a number once both classes were seen, null (not NaN, which JSON lacks) before
      expect(figures.recentAuc === null || (figures.recentAuc >= 0 && figures.recentAuc <= 1)).toBe(true);
    } finally {
      socket.close();
    }
  }, 40_000);

  test("each labelled forecast is stored with its actual on ml.outcomes", async () => {
    const read = async () => {
      const outcomes: ModelOutcome[] = [];
      for (let partition = 0; partition < ((await node.log.partitions(Topics.outcomes)) ?? 0); partition++)
        for (const record of await node.log.read(
          { topic: Topics.outcomes, partition },
          { maxRecords: 100_000 },
        ))
          outcomes.push(ModelOutcome.parse(JSON.parse(new TextDecoder().decode(payloadOf(record.value!)))));
      return outcomes;
    };
    const outcomes = await eventually(read, (o) => o.length >= 10, 30_000);
    for (const outcome of outcomes) {
      expect(outcome.model).toBe(MARKET_DIRECTION);
      expect(SYMBOLS).toContain(outcome.key);
      expect([0, 1]).toContain(outcome.actual);
      expect(outcome.value).toBeGreaterThan(0);
      expect(outcome.value).toBeLessThan(1);
      expect(outcome.values[outcome.served_version]).toBe(outcome.value);
      expect(outcome.outcome_id).toBe(`${MARKET_DIRECTION}|${outcome.key}|${outcome.at}`);
    }
    // each minute of a symbol is labelled once
    expect(new Set(outcomes.map((o) => o.outcome_id)).size).toBe(outcomes.length);
  }, 60_000);

  test("an operator's retrain reaches the market model's own loop: a challenger is registered and shadows the champion", async () => {
    const started = await api(`/api/models/${MARKET_DIRECTION}/retrain`, { reason: "test" });
    expect(started.status).toBe(202);
    expect(started.body).toMatchObject({ started: true });
    const model = await eventually(
      async () => (await api(`/api/models/${MARKET_DIRECTION}`)).body,
      (m) =>
        m.stage === "shadow" &&
        m.versions.some(
          (v: { version: string; shadowRows: number }) => v.version === "2" && v.shadowRows > 0,
        ),
      90_000,
    );
    expect(model.aliases).toEqual({ champion: "1", challenger: "2" });
    expect(model.policy).toEqual({ kind: "shadow", champion: "1", shadow: "2" });
  }, 120_000);

  test("a restarted node serves what it served, and labels the minutes it streams from then on", async () => {
    await node.stop();
    node = await startNode(config);
    const model = (await api(`/api/models/${MARKET_DIRECTION}`)).body;
    expect(model.policy).toEqual({ kind: "shadow", champion: "1", shadow: "2" });
    expect(model.aliases).toEqual({ champion: "1", challenger: "2" });
    // no second first training: the registry has its versions
    expect(model.registered).toHaveLength(2);
    expect(model.events.filter((e: { type: string }) => e.type === "registered")).toEqual([]);
    const answer = await api(`/api/models/${MARKET_DIRECTION}/predict`, {
      row: DIRECTION_FEATURES.map(() => 0),
    });
    expect(answer.body.predictions[0].version).toBe("1");
    await eventually(
      async () => (await api(`/api/models/${MARKET_DIRECTION}`)).body,
      (m) =>
        m.versions.some(
          (v: { version: string; live: { outcomes: number } }) => v.version === "1" && v.live.outcomes > 0,
        ),
      30_000,
    );
  }, 90_000);
});
