/** What every benchmark shares: order statistics and the one-line JSON figure format. */

export function quantile(values: readonly number[], q: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))]!;
}

/** the upper median of the finite values (NaN when there are none) */
export function median(values: readonly number[]): number {
  const sorted = values.filter(Number.isFinite).sort((a, b) => a - b);
  return sorted.length === 0 ? Number.NaN : sorted[Math.floor(sorted.length / 2)]!;
}

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

/**
 * The options of a micro bench that runs this tree's code against another tree's (a clean copy
 * of an earlier commit, `git archive <commit> | tar -x -C DIR` with node_modules linked):
 * `--baseline-tree DIR [--readings N] [--runs N]`. Prints the usage and exits without a tree.
 */
export function baselineTreeOptions(
  usage: string,
  defaults = { readings: 200_000, runs: 7 },
): { baselineTree: string; readings: number; runs: number } {
  const option = (name: string) => {
    const i = process.argv.indexOf(`--${name}`);
    return i >= 0 ? process.argv[i + 1] : undefined;
  };
  const baselineTree = option("baseline-tree");
  if (!baselineTree) {
    console.log(usage);
    process.exit(1);
  }
  return {
    baselineTree,
    readings: Number(option("readings") ?? defaults.readings),
    runs: Number(option("runs") ?? defaults.runs),
  };
}

/**
 * Both sides once untimed (JIT warm), then `runs` rounds, the order swapped every round so
 * neither side always runs second: each side's figures in run order.
 */
export function alternateSides<Side>(
  sides: { ours: Side; baseline: Side },
  runs: number,
  once: (side: Side) => number,
): { ours: number[]; baseline: number[] } {
  once(sides.ours);
  once(sides.baseline);
  const times = { ours: [] as number[], baseline: [] as number[] };
  for (let run = 0; run < runs; run++)
    for (const side of run % 2 === 0 ? (["ours", "baseline"] as const) : (["baseline", "ours"] as const))
      times[side].push(once(sides[side]));
  return times;
}
