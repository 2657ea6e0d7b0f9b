import { ErrorCodes, PlatformError } from "../../messages/errors.ts";
import type { BinnedMatrix } from "./binning.ts";

/**
 * A second thread that builds half of every histogram's features (features [split, count)),
 * while the grower's thread builds the other half: features are independent, so neither waits
 * on the other inside a pass and each feature's sums keep one thread's order, so the trees are
 * the same as with one thread. LightGBM and scikit-learn parallelise the same loop over
 * features with OpenMP; here the two threads share the buffers (SharedArrayBuffer) and hand
 * over through a control block with Atomics.wait / notify, which sleeps in the kernel instead
 * of spinning, the behaviour a machine shared with other work needs.
 *
 * Control block, Int32 slots: SEQ (the grower's request number), DONE (the helper's last
 * finished request), OP, START, END (a row range), HISTOGRAM (an arena slot), FAILED (1 when
 * the helper's work threw). The grower writes the request, then SEQ, and notifies; the helper
 * writes DONE and notifies.
 */
export const Control = {
  SEQ: 0,
  DONE: 1,
  OP: 2,
  START: 3,
  END: 4,
  HISTOGRAM: 5,
  FAILED: 6,
  SIZE: 7,
} as const;
export const Op = { ADD_ROWS: 1, ALL_ROWS: 2, STOP: 3 } as const;

/** What both threads see; every buffer is shared. */
export interface SharedGrowth {
  readonly bins: Uint8Array;
  readonly rowCount: number;
  readonly featureCount: number;
  /** First feature the helper builds; the grower builds [0, split). */
  readonly split: number;
  readonly targets: Float64Array;
  readonly rows: Uint32Array;
  readonly ordered: Float64Array;
  readonly counts: Float64Array;
  /** `slots` histograms of `histogramLength` values each. */
  readonly arena: Float64Array;
  readonly histogramLength: number;
  readonly control: Int32Array;
}

/** The helper's answer to a request must come within this; a stuck helper fails the fit. */
const ANSWER_TIMEOUT_MS = 60_000;

export class HistogramHelper {
  private sequence = 0;
  private closed = false;

  private constructor(
    private readonly worker: Worker,
    readonly shared: SharedGrowth,
  ) {}

  /**
   * Starts the helper thread and waits (blocking, bounded) until it has the buffers. Blocking
   * is fine: training is synchronous and already off the node's main thread (fit-on-worker.ts).
   */
  static start(data: BinnedMatrix, slots: number, histogramLength: number): HistogramHelper {
    if (!(data.bins.buffer instanceof SharedArrayBuffer)) {
      throw new PlatformError(ErrorCodes.INTERNAL, "the helper thread needs bins in shared memory");
    }
    const { rowCount, featureCount } = data;
    const shared: SharedGrowth = {
      bins: data.bins,
      rowCount,
      featureCount,
      split: Math.floor(featureCount / 2),
      targets: new Float64Array(new SharedArrayBuffer(8 * rowCount)),
      rows: new Uint32Array(new SharedArrayBuffer(4 * rowCount)),
      ordered: new Float64Array(new SharedArrayBuffer(8 * rowCount)),
      counts: new Float64Array(new SharedArrayBuffer(8 * histogramLength)),
      arena: new Float64Array(new SharedArrayBuffer(8 * histogramLength * slots)),
      histogramLength,
      control: new Int32Array(new SharedArrayBuffer(4 * Control.SIZE)),
    };
    const worker = new Worker(new URL("./histogram-helper-worker.ts", import.meta.url).href);
    const helper = new HistogramHelper(worker, shared);
    // The hand-shake is request 0: the helper marks it done once it holds the buffers.
    Atomics.store(shared.control, Control.DONE, -1);
    worker.postMessage(shared);
    helper.awaitDone(0);
    return helper;
  }

  /** Asks the helper to start its half of a request; `awaitHelper` waits for it. */
  request(op: number, start: number, end: number, histogram: number): void {
    const control = this.shared.control;
    this.sequence++;
    Atomics.store(control, Control.OP, op);
    Atomics.store(control, Control.START, start);
    Atomics.store(control, Control.END, end);
    Atomics.store(control, Control.HISTOGRAM, histogram);
    Atomics.store(control, Control.SEQ, this.sequence);
    Atomics.notify(control, Control.SEQ);
  }

  awaitHelper(): void {
    this.awaitDone(this.sequence);
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.request(Op.STOP, 0, 0, 0);
    this.worker.terminate();
  }

  private awaitDone(sequence: number): void {
    const control = this.shared.control;
    const deadline = performance.now() + ANSWER_TIMEOUT_MS;
    for (;;) {
      const done = Atomics.load(control, Control.DONE);
      if (done === sequence) break;
      const left = deadline - performance.now();
      if (left <= 0) {
        this.close();
        throw new PlatformError(
          ErrorCodes.INTERNAL,
          `the histogram helper thread did not answer within ${ANSWER_TIMEOUT_MS} ms`,
        );
      }
      Atomics.wait(control, Control.DONE, done, left);
    }
    if (Atomics.load(control, Control.FAILED) === 1) {
      this.close();
      throw new PlatformError(ErrorCodes.INTERNAL, "the histogram helper thread failed");
    }
  }
}
