import { forecastTrainingSet, type TrafficWindowRow } from "../ml/lifecycle/traffic-forecast-features.ts";
import type { LabelledTrainingSet, TrainingSetSource } from "../ml/lifecycle/training-set-source.ts";

/**
 * The node's training source until the feature store's point-in-time sets are wired: the last
 * `perSensor` closed traffic windows of each sensor, as the log delivered them (a replay adds a
 * window once: same sensor and start). Bounded per sensor and in sensors, so memory stays flat.
 */
export class TrafficWindowBuffer implements TrainingSetSource {
  private readonly bySensor = new Map<string, TrafficWindowRow[]>();
  private count = 0;
  private added = 0;

  constructor(
    private readonly perSensor: number,
    private readonly maxSensors = 10_000,
  ) {}

  get rows(): number {
    return this.count;
  }

  add(row: TrafficWindowRow): void {
    let list = this.bySensor.get(row.key);
    if (!list) {
      if (this.bySensor.size >= this.maxSensors) return;
      list = [];
      this.bySensor.set(row.key, list);
    }
    const last = list[list.length - 1];
    if (last && row.windowStart <= last.windowStart) {
      // a replay or an out-of-order repeat: kept once, in order
      if (list.some((w) => w.windowStart === row.windowStart)) return;
      list.push(row);
      list.sort((a, b) => a.windowStart - b.windowStart);
    } else {
      list.push(row);
    }
    this.count++;
    this.added++;
    if (list.length > this.perSensor) {
      list.shift();
      this.count--;
    }
  }

  recent(key: string, n: number): TrafficWindowRow[] {
    return (this.bySensor.get(key) ?? []).slice(-n);
  }

  async latest(): Promise<LabelledTrainingSet> {
    const windows = [...this.bySensor.values()].flat();
    return forecastTrainingSet(windows, {
      table: "log:city.processed.traffic",
      tableVersion: this.added,
      views: [],
    });
  }
}
