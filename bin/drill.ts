/**
 * `bun run drill -- drift`: the retraining loop closing on a live node, step by step.
 *
 * Starts a node on a temporary DATA_DIR with the IoT simulator on and the model lifecycle on
 * (embedded tracking and registry, or MLflow with MLFLOW_URL), waits for the first forecast
 * version to train on the node's closed traffic windows and serve, then injects drift into the
 * simulator (traffic counts x2 and +15: a new regime) and prints every model event from the
 * node's API as it happens: the error drift the monitor flags, the retrain, the challenger in
 * shadow, the verdict, the promotion (or rollback). A client calls the predict API all along and
 * counts failures. Exit 0 when a new champion serves within 5 minutes of the drift and no request
 * failed; 1 otherwise.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { FORECAST_FEATURES } from "../ml/lifecycle/traffic-forecast-features.ts";
import { loadNodeConfig } from "../node/config.ts";
import { type RunningNode, startNode } from "../node/start-node.ts";

const MODEL = "traffic-forecast";
const TARGET_MS = 5 * 60_000;
const FIRST_TRAINING_TIMEOUT_MS = 5 * 60_000;

interface ModelView {
  policy: { kind: string; version?: string } | null;
  aliases: Record<string, string>;
  stage: string | null;
  events: { type: string; version?: string; previous?: string; by: string; reason: string; at: number }[];
}

const [scenario = "drift"] = process.argv.slice(2).filter((arg) => arg !== "--");
if (scenario !== "drift") {
  console.error(`unknown drill '${scenario}'; available: drift`);
  process.exit(2);
}

const started = Date.now();
const stamp = () => `[+${((Date.now() - started) / 1000).toFixed(1).padStart(6)} s]`;
const say = (text: string) => console.log(`${stamp()} ${text}`);
const dataDir = mkdtempSync(join(tmpdir(), "drill-drift-"));
let node: RunningNode | undefined;
let exitCode = 1;
try {
  const config = loadNodeConfig(process.env, [], {
    port: 0,
    host: "127.0.0.1",
    mqttPort: 0,
    dataDir,
    progress: false,
    simulate: true,
    sensorsPerType: 40,
    rate: 600,
    windowMs: 2000,
    graceMs: 0,
    news: "off",
    market: "off",
    // the models train on the feature store's point-in-time sets over the lake's gold windows
    lake: "on",
    lakeLingerMs: 500,
    lakeBatchSize: 2000,
    features: "on",
    models: "on",
    modelsFirstTrainingRows: 600,
    rateLimitPerSecond: 100_000,
    rateLimitBurst: 100_000,
  });
  say(
    `starting a node (DATA_DIR ${dataDir}; tracking ${config.mlflowUrl ?? "embedded"}) with 40 simulated traffic sensors, 2 s windows`,
  );
  node = await startNode(config);
  const running = node;
  const view = async (): Promise<ModelView | undefined> => {
    const response = await fetch(`${running.apiUrl}/api/models/${MODEL}`);
    if (response.status === 404) {
      await response.text();
      return undefined;
    }
    return (await response.json()) as ModelView;
  };
  let printed = 0;
  const printEvents = (model: ModelView | undefined) => {
    for (const event of model?.events.slice(printed) ?? []) {
      if (event.type === "error-drift" && printed > 0 && model!.events[printed - 1]?.type === "error-drift") {
        printed++;
        continue;
      }
      say(
        `${event.type.padEnd(17)} ${event.version ? `v${event.version}` : "  "}${event.previous ? ` (was v${event.previous})` : ""} by ${event.by}: ${event.reason}`,
      );
      printed++;
    }
  };

  // a client that keeps asking for forecasts while versions change under it
  let requests = 0;
  let failures = 0;
  let clientRunning = true;
  const client = (async () => {
    while (clientRunning) {
      const model = await view();
      if (model?.policy) {
        const row = FORECAST_FEATURES.map((_, i) => (i === 3 ? 40 : 1));
        const response = await fetch(`${running.apiUrl}/api/models/${MODEL}/predict`, {
          method: "POST",
          headers: { "content-type": "application/json" },
          body: JSON.stringify({ row }),
        });
        requests++;
        if (response.status !== 200) failures++;
        await response.text();
      }
      await Bun.sleep(100);
    }
  })();

  say("waiting for the first version to train on the node's closed windows ...");
  let model: ModelView | undefined;
  while (Date.now() - started < FIRST_TRAINING_TIMEOUT_MS) {
    model = await view();
    printEvents(model);
    if (model?.policy?.kind === "single") break;
    await Bun.sleep(1000);
  }
  if (model?.policy?.kind !== "single") throw new Error("no first version was served in time");
  const firstChampion = model.aliases.champion!;
  say(`v${firstChampion} is champion and serves; letting it see the current regime for 20 s`);
  await Bun.sleep(20_000);
  printEvents(await view());

  const injectedAt = Date.now();
  running.fleet.setDrift({ type: "traffic", field: "vehicle_count", scale: 2, shift: 15 });
  say("DRIFT INJECTED: traffic vehicle_count x2 + 15 in the simulator");
  let newChampionAt: number | undefined;
  while (Date.now() - injectedAt < TARGET_MS) {
    model = await view();
    printEvents(model);
    const champion = model?.aliases.champion;
    if (champion !== undefined && champion !== firstChampion && model?.policy?.version === champion) {
      newChampionAt = Date.now();
      break;
    }
    await Bun.sleep(1000);
  }
  clientRunning = false;
  await client;
  printEvents(await view());
  if (newChampionAt === undefined) {
    say(`no new champion within ${TARGET_MS / 60_000} minutes of the drift`);
  } else {
    say(
      `NEW CHAMPION v${model!.aliases.champion} serving ${((newChampionAt - injectedAt) / 1000).toFixed(1)} s after the drift (target <= ${TARGET_MS / 1000} s)`,
    );
  }
  say(`predict requests during the drill: ${requests}, failed: ${failures}`);
  exitCode = newChampionAt !== undefined && failures === 0 ? 0 : 1;
} catch (error) {
  console.error(`${stamp()} the drill failed: ${(error as Error).message}`);
} finally {
  await node?.stop();
  rmSync(dataDir, { recursive: true, force: true });
}
process.exit(exitCode);
