import { WindowResult } from "../../messages/window-result.ts";
import type { TrafficWindowRow } from "../../ml/lifecycle/traffic-forecast-features.ts";
import { type TrafficForecaster, trafficWindowRow } from "./traffic-forecaster.ts";
import { type UtilityForecaster, type UtilityWindowRow, utilityWindowRow } from "./utility-forecaster.ts";

/** a closed window the node forecasts from */
export type ClosedWindow =
  | { readonly kind: "traffic"; readonly row: TrafficWindowRow }
  | { readonly kind: "utility"; readonly row: UtilityWindowRow };

export interface WindowForecastsDeps {
  readonly traffic: Pick<TrafficForecaster, "closed">;
  readonly utility: Pick<UtilityForecaster, "closed">;
  /** resolves once the forecasts published are in the log */
  readonly flushPublished?: () => Promise<void>;
  readonly onError: (error: unknown) => void;
}

/**
 * The live loop of the traffic and utility forecasts over the final windows (a table sink's
 * rows): each closed window labels the forecast made for it, and its sensor's next window is
 * forecast. A forecast that fails (a swap, a failing shard, the online store down) is counted
 * and said; the labels went in before it, and the windows' offsets move on. The forecasts are in
 * the log before the windows that caused them are committed: a crash in between forecasts them
 * again (same prediction ids), never loses them.
 */
export class WindowForecasts {
  private failed = 0;

  constructor(private readonly deps: WindowForecastsDeps) {}

  /** a final window record as the rows it forecasts from (other types: none) */
  rowsOf(value: unknown): ClosedWindow[] {
    const window = WindowResult.parse(value);
    if (window.type === "traffic") {
      const row = trafficWindowRow(window);
      return row ? [{ kind: "traffic", row }] : [];
    }
    const row = window.type === "utility" ? utilityWindowRow(window) : undefined;
    return row ? [{ kind: "utility", row }] : [];
  }

  async closed(rows: readonly ClosedWindow[]): Promise<void> {
    const forecasts = [
      () => this.deps.traffic.closed(rows.flatMap((w) => (w.kind === "traffic" ? [w.row] : []))),
      () => this.deps.utility.closed(rows.flatMap((w) => (w.kind === "utility" ? [w.row] : []))),
    ];
    for (const forecast of forecasts) {
      try {
        await forecast();
      } catch (error) {
        this.failed++;
        this.deps.onError(error);
      }
    }
    await this.deps.flushPublished?.();
  }

  /** forecasts that could not be made since the start */
  failures(): number {
    return this.failed;
  }
}
