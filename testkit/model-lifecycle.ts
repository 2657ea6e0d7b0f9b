import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { ModelEvent } from "../actors/model-shard/model-events.ts";
import { ModelServing } from "../actors/model-shard/model-serving.ts";
import {
  forecastFeatures,
  forecastTrainingSet,
  type TrafficWindowRow,
} from "../ml/lifecycle/traffic-forecast-features.ts";
import type { LabelledTrainingSet, TrainingSetSource } from "../ml/lifecycle/training-set-source.ts";
import { EmbeddedModelRegistry } from "../ml/registry/embedded/embedded-model-registry.ts";
import { EmbeddedTrackingStore } from "../ml/tracking/embedded/embedded-tracking-store.ts";
import { type ActorSystem, createActorSystem } from "../supervisor/actor-system.ts";

/**
 * A model lifecycle on one machine for tests and the drill: embedded tracking and registry in a
 * temporary folder, an actor system with the serving layer, the events in order, and a training
 * source over windows the caller appends as they "close".
 */
export interface LifecycleBench {
  readonly dir: string;
  readonly tracking: EmbeddedTrackingStore;
  readonly registry: EmbeddedModelRegistry;
  readonly system: ActorSystem;
  readonly serving: ModelServing;
  readonly events: ModelEvent[];
  readonly windows: TrafficWindowRow[];
  readonly source: TrainingSetSource & { override?: (set: LabelledTrainingSet) => LabelledTrainingSet };
  close(): Promise<void>;
}

export function lifecycleBench(): LifecycleBench {
  const dir = mkdtempSync(join(tmpdir(), "lifecycle-"));
  const tracking = EmbeddedTrackingStore.open({ dir });
  const registry = EmbeddedModelRegistry.open({ dir });
  const system = createActorSystem({ name: "models" });
  const events: ModelEvent[] = [];
  const serving = new ModelServing({
    system,
    registry,
    tracking,
    now: Date.now,
    hrtimeMs: () => performance.now(),
    onEvent: (event) => events.push(event),
  });
  const windows: TrafficWindowRow[] = [];
  let version = 0;
  const source: LifecycleBench["source"] = {
    async latest() {
      const set = forecastTrainingSet(windows, {
        table: "gold_traffic_windows",
        tableVersion: ++version,
        views: [],
      });
      return source.override ? source.override(set) : set;
    },
  };
  return {
    dir,
    tracking,
    registry,
    system,
    serving,
    events,
    windows,
    source,
    async close() {
      await system.stop();
      await tracking.close();
      await registry.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Each sensor's windows so far, oldest first, for the next window's features. */
export function historyBySensor(windows: readonly TrafficWindowRow[]): Map<string, TrafficWindowRow[]> {
  const out = new Map<string, TrafficWindowRow[]>();
  for (const row of windows) {
    const list = out.get(row.key);
    if (list) list.push(row);
    else out.set(row.key, [row]);
  }
  return out;
}

export function nextRow(history: readonly TrafficWindowRow[]): number[] {
  return [...forecastFeatures(history.slice(-3))!];
}
