/**
 * Golden values from scipy 1.17.1, produced by this script (kept here, not as a dependency):
 *
 *   import json
 *   from scipy.stats import ks_2samp
 *   from scipy.spatial.distance import jensenshannon
 *   def seq(n, step, scale=1.0, shift=0.0, power=1.0):
 *       return [(((i + 1) * step) % 1.0) ** power * scale + shift for i in range(n)]
 *   cases = [
 *     ("uniform vs slightly wider uniform", dict(n=200, step=0.6180339887498949), dict(n=150, step=0.41421356237309515, scale=1.1)),
 *     ("uniform vs shifted uniform", dict(n=1000, step=0.6180339887498949), dict(n=300, step=0.7320508075688772, shift=0.05)),
 *     ("uniform vs squared uniform", dict(n=500, step=0.6180339887498949), dict(n=500, step=0.41421356237309515, power=2.0)),
 *     ("tiny samples", dict(n=5, step=0.6180339887498949), dict(n=6, step=0.41421356237309515, shift=0.3)),
 *     ("large samples, small shift", dict(n=20000, step=0.6180339887498949), dict(n=15000, step=0.7320508075688772, shift=0.01)),
 *     ("large samples, same distribution", dict(n=20000, step=0.6180339887498949), dict(n=15000, step=0.7320508075688772)),
 *   ]
 *   out = []
 *   for name, a, b in cases:
 *       xa = seq(**a); xb = seq(**b)
 *       r = ks_2samp(xa, xb, method="asymp")
 *       out.append(dict(name=name, a=a, b=b, statistic=float(r.statistic), pValue=float(r.pvalue)))
 *   ties = ks_2samp([1,1,2,2,3,3,3],[2,2,3,4,4,5], method="asymp")
 *   out.append(dict(name="ties", a=[1,1,2,2,3,3,3], b=[2,2,3,4,4,5], statistic=float(ties.statistic), pValue=float(ties.pvalue)))
 *   js = []
 *   for p, q in [([0.25,0.25,0.25,0.25],[0.1,0.2,0.3,0.4]), ([0.5,0.5],[0.9,0.1]), ([1,0,0],[0,0,1]), ([0.2,0.3,0.5],[0.2,0.3,0.5])]:
 *       js.append(dict(p=p, q=q, distance=float(jensenshannon(p, q, base=2))))
 *   print(json.dumps(dict(ks=out, js=js), indent=1))
 */
export interface SequenceSpec {
  n: number;
  step: number;
  scale?: number;
  shift?: number;
  power?: number;
}

/** The script's seq(): ((i + 1) * step mod 1) ** power * scale + shift, identical in IEEE doubles. */
export function sequence(spec: SequenceSpec): Float64Array {
  const { n, step, scale = 1, shift = 0, power = 1 } = spec;
  return Float64Array.from({ length: n }, (_, i) => (((i + 1) * step) % 1) ** power * scale + shift);
}

export const KS_GOLDEN: Array<{
  name: string;
  a: SequenceSpec | number[];
  b: SequenceSpec | number[];
  statistic: number;
  pValue: number;
}> = [
  {
    name: "uniform vs slightly wider uniform",
    a: { n: 200, step: 0.6180339887498949 },
    b: { n: 150, step: 0.41421356237309515, scale: 1.1 },
    statistic: 0.09333333333333338,
    pValue: 0.4166417741884041,
  },
  {
    name: "uniform vs shifted uniform",
    a: { n: 1000, step: 0.6180339887498949 },
    b: { n: 300, step: 0.7320508075688772, shift: 0.05 },
    statistic: 0.060333333333333294,
    pValue: 0.3555038587902235,
  },
  {
    name: "uniform vs squared uniform",
    a: { n: 500, step: 0.6180339887498949 },
    b: { n: 500, step: 0.41421356237309515, power: 2.0 },
    statistic: 0.252,
    pValue: 1.770700560405163e-14,
  },
  {
    name: "tiny samples",
    a: { n: 5, step: 0.6180339887498949 },
    b: { n: 6, step: 0.41421356237309515, shift: 0.3 },
    statistic: 0.46666666666666673,
    pValue: 0.4151111111111111,
  },
  {
    name: "large samples, small shift",
    a: { n: 20000, step: 0.6180339887498949 },
    b: { n: 15000, step: 0.7320508075688772, shift: 0.01 },
    statistic: 0.01031666666666664,
    pValue: 0.31907510395982264,
  },
  {
    name: "large samples, same distribution",
    a: { n: 20000, step: 0.6180339887498949 },
    b: { n: 15000, step: 0.7320508075688772 },
    statistic: 0.00029999999999996696,
    pValue: 1.0,
  },
  {
    name: "ties",
    a: [1, 1, 2, 2, 3, 3, 3],
    b: [2, 2, 3, 4, 4, 5],
    statistic: 0.5,
    pValue: 0.3333333333333333,
  },
];

export const JS_GOLDEN: Array<{ p: number[]; q: number[]; distance: number }> = [
  { p: [0.25, 0.25, 0.25, 0.25], q: [0.1, 0.2, 0.3, 0.4], distance: 0.20050332253142814 },
  { p: [0.5, 0.5], q: [0.9, 0.1], distance: 0.3831358798599423 },
  { p: [1, 0, 0], q: [0, 0, 1], distance: 1.0 },
  { p: [0.2, 0.3, 0.5], q: [0.2, 0.3, 0.5], distance: 0.0 },
];
