import { BoundedMap } from "../../messages/bounded-map.ts";
import type { TrafficWindowRow } from "../../ml/lifecycle/traffic-forecast-features.ts";

/**
 * The last few closed windows of each sensor, for the forecast of its next window: the lags the
 * offline store gives a training row by three as-of joins, held online as the windows close
 * (the online store keeps only a sensor's newest window). A window at or before a sensor's newest
 * (a replay) is not taken again; bounded per sensor and in sensors (the sensor seen least recently goes), so
 * memory stays flat whatever the fleet does.
 */
export class RecentWindows {
  private readonly bySensor: BoundedMap<string, TrafficWindowRow[]>;

  constructor(
    private readonly perSensor = 3,
    maxSensors = 100_000,
  ) {
    this.bySensor = new BoundedMap(maxSensors);
  }

  /** false when the window was already there (a replay) */
  add(row: TrafficWindowRow): boolean {
    // seen now, replay or not: the sensor seen least recently is the one to go
    let list = this.bySensor.touch(row.key);
    if (!list) {
      list = [];
      this.bySensor.set(row.key, list);
    }
    // a sensor's windows close in order: one at or before the newest is a replay (its next
    // window was seen, its forecast made then), never a reason to forecast again
    const newest = list[list.length - 1];
    if (newest && row.windowStart <= newest.windowStart) return false;
    list.push(row);
    if (list.length > this.perSensor) list.shift();
    return true;
  }

  of(key: string): readonly TrafficWindowRow[] {
    return this.bySensor.get(key) ?? [];
  }

  get sensors(): number {
    return this.bySensor.size;
  }
}
