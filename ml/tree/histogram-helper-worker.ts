/**
 * The helper thread of histogram-helper.ts: receives the shared buffers once, then serves
 * requests until told to stop, building features [split, featureCount) of each histogram.
 */
import type { BinnedMatrix } from "./binning.ts";
import { addRows, fillHistogramAllRows } from "./gradient-histogram.ts";
import { Control, Op, type SharedGrowth } from "./histogram-helper.ts";

declare const self: Worker;

self.onmessage = (event: MessageEvent<SharedGrowth>) => {
  const shared = event.data;
  const { control, histogramLength } = shared;
  const data: BinnedMatrix = {
    bins: shared.bins,
    rowCount: shared.rowCount,
    featureCount: shared.featureCount,
    upperBounds: [],
  };
  let seen = 0;
  Atomics.store(control, Control.DONE, 0);
  Atomics.notify(control, Control.DONE);
  for (;;) {
    Atomics.wait(control, Control.SEQ, seen);
    const sequence = Atomics.load(control, Control.SEQ);
    if (sequence === seen) continue;
    seen = sequence;
    const op = Atomics.load(control, Control.OP);
    if (op === Op.STOP) break;
    const start = Atomics.load(control, Control.START);
    const end = Atomics.load(control, Control.END);
    const slot = Atomics.load(control, Control.HISTOGRAM);
    const histogram = shared.arena.subarray(slot * histogramLength, (slot + 1) * histogramLength);
    try {
      if (op === Op.ADD_ROWS) {
        addRows(data, shared.rows, start, end, shared.ordered, histogram, shared.split, shared.featureCount);
      } else if (op === Op.ALL_ROWS) {
        fillHistogramAllRows(
          data,
          shared.targets,
          shared.counts,
          histogram,
          shared.split,
          shared.featureCount,
        );
      } else {
        throw new RangeError(`unknown request ${op}`);
      }
    } catch (error) {
      // The grower is blocked in Atomics.wait and cannot read a message: the flag is the channel,
      // and it fails the fit with a coded error; the detail goes to the thread's stderr.
      Atomics.store(control, Control.FAILED, 1);
      console.error("histogram helper:", error);
    }
    Atomics.store(control, Control.DONE, sequence);
    Atomics.notify(control, Control.DONE);
  }
  // Stopped: the grower terminates this thread.
};
