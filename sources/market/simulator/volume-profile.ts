/**
 * The intraday volume profile of US equities: the "U" (or "smile") seen in every study of
 * intraday activity (Jain & Joh 1988; Admati & Pfleiderer 1988): heavy at the open, a midday
 * lull, a second peak into the close. Given the fraction of the session elapsed (0..1) it answers
 * a weight whose mean over the session is 1, so `dailyVolume / minutes * weight` spreads a day's
 * volume over its minutes.
 */
const OPEN_PEAK = 2.2;
const OPEN_DECAY = 14;
const CLOSE_PEAK = 1.4;
const CLOSE_DECAY = 9;
const FLOOR = 0.55;

function raw(x: number): number {
  return FLOOR + OPEN_PEAK * Math.exp(-x * OPEN_DECAY) + CLOSE_PEAK * Math.exp(-(1 - x) * CLOSE_DECAY);
}

/** the mean of `raw` over [0, 1], in closed form, so the weights average to 1 */
const MEAN =
  FLOOR +
  (OPEN_PEAK * (1 - Math.exp(-OPEN_DECAY))) / OPEN_DECAY +
  (CLOSE_PEAK * (1 - Math.exp(-CLOSE_DECAY))) / CLOSE_DECAY;

export function intradayVolumeWeight(fractionOfSession: number): number {
  const x = Math.min(1, Math.max(0, fractionOfSession));
  return raw(x) / MEAN;
}
