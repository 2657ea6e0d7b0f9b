/** What every benchmark shares: order statistics and the one-line JSON figure format. */

export function quantile(values: readonly number[], q: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))]!;
}

export const median = (values: readonly number[]) => quantile(values, 0.5);

export interface Figure {
  readonly name: string;
  readonly value: number;
  readonly unit: string;
  readonly baseline: string;
  readonly baseline_value: number;
  readonly [extra: string]: unknown;
}

/** The closing line of a benchmark: one JSON object per figure. */
export function printFigure(figure: Figure): void {
  console.log(JSON.stringify(figure));
}
