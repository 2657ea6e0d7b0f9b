import { describe, expect, test } from "bun:test";
import { Histogram, Registry } from "prom-client";
import { histogramQuantile, histogramsOf } from "../../../api/dashboard/metric-values.ts";

const INF = Number.POSITIVE_INFINITY;

describe("histogramQuantile computes what Prometheus' histogram_quantile does", () => {
  const cases: {
    name: string;
    q: number;
    buckets: { le: number; count: number }[];
    expected: number | null;
  }[] = [
    {
      name: "no observations: no quantile",
      q: 0.5,
      buckets: [
        { le: 1, count: 0 },
        { le: INF, count: 0 },
      ],
      expected: null,
    },
    {
      name: "interpolates linearly inside the bucket the rank falls in",
      q: 0.5,
      buckets: [
        { le: 1, count: 0 },
        { le: 2, count: 10 },
        { le: INF, count: 10 },
      ],
      expected: 1.5,
    },
    {
      name: "the lowest bucket starts at zero",
      q: 0.5,
      buckets: [
        { le: 0.1, count: 4 },
        { le: INF, count: 4 },
      ],
      expected: 0.05,
    },
    {
      name: "a rank in the +Inf bucket answers the highest finite bound",
      q: 0.99,
      buckets: [
        { le: 1, count: 50 },
        { le: 2, count: 90 },
        { le: INF, count: 100 },
      ],
      expected: 2,
    },
    {
      name: "a rank exactly on a bucket's count ends in that bucket",
      q: 0.25,
      buckets: [
        { le: 1, count: 25 },
        { le: 5, count: 100 },
        { le: INF, count: 100 },
      ],
      expected: 1,
    },
  ];
  for (const c of cases)
    test(c.name, () => {
      const got = histogramQuantile(c.q, c.buckets);
      if (c.expected === null) expect(got).toBeNull();
      else expect(got).toBeCloseTo(c.expected, 9);
    });
});

test("histogramsOf reads a prom-client histogram per label set, buckets sorted and cumulative", async () => {
  const registry = new Registry();
  const h = new Histogram({
    name: "t_seconds",
    help: "t",
    labelNames: ["stage"] as const,
    buckets: [0.01, 0.1, 1],
    registers: [registry],
  });
  for (const v of [0.005, 0.05, 0.05, 0.5]) h.observe({ stage: "window" }, v);
  h.observe({ stage: "prediction" }, 2);
  const byStage = Object.fromEntries((await histogramsOf(h, "stage")).map((s) => [s.labels.stage, s]));
  expect(byStage.window!.count).toBe(4);
  expect(byStage.window!.sum).toBeCloseTo(0.605, 9);
  expect(byStage.window!.buckets).toEqual([
    { le: 0.01, count: 1 },
    { le: 0.1, count: 3 },
    { le: 1, count: 4 },
    { le: INF, count: 4 },
  ]);
  expect(byStage.window!.p50).toBeCloseTo(0.01 + (0.09 * (2 - 1)) / 2, 9);
  expect(byStage.prediction!.p99).toBe(1);
});
