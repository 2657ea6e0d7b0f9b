import { expect, test } from "bun:test";
import { join } from "node:path";
import { Adwin } from "../../../ml/detectors/adwin.ts";
import type { ChangeDetector } from "../../../ml/detectors/change-detector.ts";
import { Ddm } from "../../../ml/detectors/ddm.ts";
import { PageHinkley } from "../../../ml/detectors/page-hinkley.ts";
import { SeededRandom } from "../../../ml/tree/random.ts";
import { deltaRsAvailable, VENV_PYTHON } from "../../../testkit/delta-rs.ts";

/**
 * The streaming detectors against River's (PyPI `river`, in the shared venv) on the same
 * streams: the indices of every detection (and DDM's warnings) must be the same. The streams are
 * seeded: a step in the mean, a gradual drift, noise with no change, several changes in a row
 * (each detection restarts the detector), a spike, and error streams of 0/1 for DDM.
 */
interface Case {
  readonly name: string;
  readonly detector: "adwin" | "page-hinkley" | "ddm";
  readonly params: Record<string, number | string>;
  readonly stream: number[];
}

function gaussian(random: SeededRandom, mean: number, sd: number): number {
  const u = Math.max(random.next(), 1e-12);
  return mean + sd * Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * random.next());
}

function segments(seed: number, parts: [length: number, mean: number, sd: number][]): number[] {
  const random = new SeededRandom(seed);
  return parts.flatMap(([length, mean, sd]) => Array.from({ length }, () => gaussian(random, mean, sd)));
}

function errors(seed: number, parts: [length: number, rate: number][]): number[] {
  const random = new SeededRandom(seed);
  return parts.flatMap(([length, rate]) => Array.from({ length }, () => (random.next() < rate ? 1 : 0)));
}

const gradual = (seed: number): number[] => {
  const random = new SeededRandom(seed);
  return Array.from({ length: 3000 }, (_, i) => gaussian(random, i < 1000 ? 1 : 1 + (i - 1000) / 500, 0.5));
};

const CASES: Case[] = [
  {
    name: "ADWIN, a step in the mean",
    detector: "adwin",
    params: {},
    stream: segments(1, [
      [1000, 0, 1],
      [1000, 2, 1],
    ]),
  },
  { name: "ADWIN, no change", detector: "adwin", params: {}, stream: segments(2, [[3000, 5, 1]]) },
  { name: "ADWIN, a gradual drift", detector: "adwin", params: {}, stream: gradual(3) },
  {
    name: "ADWIN, several changes, tight delta, clock 1",
    detector: "adwin",
    params: { delta: 0.0001, clock: 1 },
    stream: segments(4, [
      [500, 0, 1],
      [500, 3, 1],
      [500, -1, 2],
      [500, 4, 0.5],
    ]),
  },
  {
    name: "ADWIN, 0/1 errors whose rate rises",
    detector: "adwin",
    params: {},
    stream: errors(5, [
      [2000, 0.1],
      [2000, 0.4],
    ]),
  },
  {
    name: "Page-Hinkley, a step up",
    detector: "page-hinkley",
    params: {},
    stream: segments(6, [
      [1000, 0, 1],
      [1000, 3, 1],
    ]),
  },
  {
    name: "Page-Hinkley, a step down",
    detector: "page-hinkley",
    params: {},
    stream: segments(7, [
      [1000, 5, 1],
      [1000, 1, 1],
    ]),
  },
  {
    name: "Page-Hinkley, up only, low threshold, several changes",
    detector: "page-hinkley",
    params: { mode: "up", threshold: 10, minInstances: 20 },
    stream: segments(8, [
      [400, 0, 1],
      [400, 2, 1],
      [400, 0, 1],
      [400, 4, 1],
    ]),
  },
  {
    name: "Page-Hinkley, no change",
    detector: "page-hinkley",
    params: {},
    stream: segments(9, [[3000, 2, 1]]),
  },
  {
    name: "DDM, the error rate rises",
    detector: "ddm",
    params: {},
    stream: errors(10, [
      [1000, 0.1],
      [1000, 0.35],
    ]),
  },
  { name: "DDM, no change", detector: "ddm", params: {}, stream: errors(11, [[3000, 0.2]]) },
  {
    name: "DDM, several rises, short warm start",
    detector: "ddm",
    params: { warmStart: 10 },
    stream: errors(12, [
      [500, 0.05],
      [500, 0.3],
      [500, 0.05],
      [500, 0.6],
    ]),
  },
  {
    name: "DDM, a perfect model that starts failing",
    detector: "ddm",
    params: {},
    stream: errors(13, [
      [200, 0],
      [200, 0.2],
    ]),
  },
];

function build(c: Case): ChangeDetector {
  if (c.detector === "adwin") return new Adwin(c.params as ConstructorParameters<typeof Adwin>[0]);
  if (c.detector === "page-hinkley")
    return new PageHinkley(c.params as ConstructorParameters<typeof PageHinkley>[0]);
  return new Ddm(c.params as ConstructorParameters<typeof Ddm>[0]);
}

async function river(cases: readonly Case[]): Promise<{ detections: number[][]; warnings: number[][] }> {
  const child = Bun.spawn(
    [VENV_PYTHON, join(import.meta.dir, "../../../testkit/python/river_detections.py")],
    {
      stdin: new TextEncoder().encode(JSON.stringify({ cases })),
      stdout: "pipe",
      stderr: "pipe",
    },
  );
  const [out, err, code] = await Promise.all([
    new Response(child.stdout).text(),
    new Response(child.stderr).text(),
    child.exited,
  ]);
  if (code !== 0) throw new Error(`river_detections.py failed (${code}): ${err.trim()}`);
  return JSON.parse(out);
}

if (!deltaRsAvailable())
  throw new Error(`the shared venv is missing (${VENV_PYTHON}): run bash infra/python.sh`);
const reference = await river(CASES);

test.each(CASES.map((c, i) => [c.name, i] as const))("%s: the same detections as River", (_name, i) => {
  const c = CASES[i]!;
  const detector = build(c);
  const detections: number[] = [];
  const warnings: number[] = [];
  c.stream.forEach((value, index) => {
    if (detector.update(value)) detections.push(index);
    if (detector.warning) warnings.push(index);
  });
  expect(detections).toEqual(reference.detections[i]!);
  expect(warnings).toEqual(reference.warnings[i]!);
});

test("the streams that change are detected and the ones that do not are not (the cases test something)", () => {
  const counts = Object.fromEntries(CASES.map((c, i) => [c.name, reference.detections[i]!.length]));
  expect(counts["ADWIN, a step in the mean"]).toBeGreaterThan(0);
  expect(counts["ADWIN, no change"]).toBe(0);
  expect(counts["ADWIN, several changes, tight delta, clock 1"]).toBeGreaterThanOrEqual(3);
  expect(counts["Page-Hinkley, a step up"]).toBeGreaterThan(0);
  expect(counts["DDM, the error rate rises"]).toBeGreaterThan(0);
  expect(counts["DDM, no change"]).toBe(0);
});
