import { join } from "node:path";
import { forecastTrainingSet } from "../ml/lifecycle/traffic-forecast-features.ts";
import { trainTrackAndRegister } from "../ml/lifecycle/train-model.ts";
import { EmbeddedModelRegistry } from "../ml/registry/embedded/embedded-model-registry.ts";
import { CHAMPION } from "../ml/registry/model-registry.ts";
import { EmbeddedTrackingStore } from "../ml/tracking/embedded/embedded-tracking-store.ts";
import { trafficWindowHistory } from "./traffic-windows.ts";

/**
 * A node's model registry as it is after its first training (embedded, in DATA_DIR/models): a
 * traffic forecast version 1, champion, trained on windows of 1 s like the tests' own. A node
 * started on this folder serves it from the first window, as a restarted node serves what it
 * served before; tests of what happens to predictions downstream (the log, the lake, the time
 * series, the drift monitor) start from here instead of waiting for a bootstrap training.
 */
export const SEEDED_MODEL = "traffic-forecast";

export async function seedTrafficChampion(dataDir: string, windowMs = 1000): Promise<string> {
  const dir = join(dataDir, "models");
  const tracking = EmbeddedTrackingStore.open({ dir });
  const registry = EmbeddedModelRegistry.open({ dir });
  try {
    const set = forecastTrainingSet(
      trafficWindowHistory({
        sensors: 4,
        windows: 300,
        windowMs,
        // a fixed start: two registries seeded apart hold the same model and the same reference
        start: Date.UTC(2026, 0, 5, 6),
        seed: 3,
      }),
      { table: "testkit:traffic-window-history", tableVersion: null, views: [] },
    );
    const trained = await trainTrackAndRegister(tracking, registry, {
      model: SEEDED_MODEL,
      experiment: SEEDED_MODEL,
      set,
      learner: { kind: "gradient-boosting", params: { nTrees: 20, maxDepth: 4, maxBins: 32 } },
      by: "testkit",
      reason: "a node's first version, seeded for a test",
    });
    const version = trained.version.version;
    await registry.setAlias(SEEDED_MODEL, CHAMPION, version, {
      by: "testkit",
      reason: "first version of the model",
      expected: null,
    });
    return version;
  } finally {
    await tracking.close();
    await registry.close();
  }
}
