/**
 * The anomalies a symbol actor looks for in each closed bar, robust to the heavy tails of
 * returns: a price jump is a log return more than `jumpZ` robust standard deviations (1.4826 x
 * the median absolute deviation) from the median of the recent returns; a volume spike is a
 * volume more than `spikeRatio` times the median of the recent volumes. Both need `minHistory`
 * bars first. State is plain data (two bounded arrays and the last close).
 */
export interface AnomalyState {
  returns: number[];
  volumes: number[];
  lastClose: number | null;
}

export interface AnomalyRules {
  readonly window: number;
  readonly minHistory: number;
  readonly jumpZ: number;
  readonly spikeRatio: number;
}

export const DEFAULT_ANOMALY_RULES: AnomalyRules = { window: 60, minHistory: 20, jumpZ: 6, spikeRatio: 5 };

export interface BarAnomaly {
  readonly kind: "price_jump" | "volume_spike";
  readonly value: number;
  readonly score: number;
  readonly threshold: number;
}

export function anomalyInit(): AnomalyState {
  return { returns: [], volumes: [], lastClose: null };
}

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

export function anomaliesOf(
  state: AnomalyState,
  bar: { close: number; volume: number },
  rules: AnomalyRules = DEFAULT_ANOMALY_RULES,
): BarAnomaly[] {
  const found: BarAnomaly[] = [];
  if (state.lastClose !== null && state.lastClose > 0) {
    const r = Math.log(bar.close / state.lastClose);
    if (state.returns.length >= rules.minHistory) {
      const m = median(state.returns);
      const mad = median(state.returns.map((x) => Math.abs(x - m)));
      const scale = 1.4826 * mad;
      const z = scale === 0 ? (r === m ? 0 : Number.POSITIVE_INFINITY) : Math.abs(r - m) / scale;
      if (z > rules.jumpZ)
        found.push({
          kind: "price_jump",
          value: r,
          score: Number.isFinite(z) ? z : 1e9,
          threshold: rules.jumpZ,
        });
    }
    state.returns.push(r);
    if (state.returns.length > rules.window) state.returns.shift();
  }
  if (state.volumes.length >= rules.minHistory) {
    const m = median(state.volumes);
    const ratio = m === 0 ? (bar.volume === 0 ? 0 : Number.POSITIVE_INFINITY) : bar.volume / m;
    if (ratio > rules.spikeRatio)
      found.push({
        kind: "volume_spike",
        value: bar.volume,
        score: Number.isFinite(ratio) ? ratio : 1e9,
        threshold: rules.spikeRatio,
      });
  }
  state.volumes.push(bar.volume);
  if (state.volumes.length > rules.window) state.volumes.shift();
  state.lastClose = bar.close;
  return found;
}
