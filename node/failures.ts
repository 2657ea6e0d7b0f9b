import { ErrorCodes, isPlatformError } from "../messages/errors.ts";

const TRANSIENT_LOG_ERRORS: ReadonlySet<string> = new Set([
  ErrorCodes.LOG_BROKER_UNAVAILABLE,
  ErrorCodes.LOG_REBALANCE,
  ErrorCodes.INFRA_UNAVAILABLE,
]);

/**
 * How a node takes failures: the first fatal one is kept (/health turns 503 with its code) and
 * said once; the log being away for a while (a broker restart) is waited out by the parts that
 * use it and reported at most every 5 s, and fails the node only when it is not transient.
 */
export class NodeFailures {
  private first: unknown;
  private lastUnavailableReport = 0;

  get fatal(): unknown {
    return this.first;
  }

  readonly fail = (error: unknown): void => {
    this.first ??= error;
    console.error(`node failed: ${error instanceof Error ? error.message : String(error)}`);
  };

  /** a part that could not stop cleanly (gave up waiting for its group): said, never fatal */
  readonly stopIncomplete = (error: unknown): void => {
    console.error(`stop: ${error instanceof Error ? error.message : String(error)}`);
  };

  /**
   * An error the part that met it has judged transient and retries (its `onTransientError`): the
   * log away, or a checkpoint whose actors did not answer in time (DRAIN_TIMEOUT, tried again at
   * the next one). Said at most every 5 s, never fatal: judging it again here by the log's list
   * once failed a whole node for good on one slow markets checkpoint.
   */
  readonly retrying = (error: unknown): void => {
    if (Date.now() - this.lastUnavailableReport < 5000) return;
    this.lastUnavailableReport = Date.now();
    const what = isPlatformError(error) ? `${error.code}: ${error.message}` : String(error);
    console.error(`retrying: ${what}`);
  };

  readonly logUnavailable = (error: unknown): void => {
    if (!isPlatformError(error) || !TRANSIENT_LOG_ERRORS.has(error.code)) {
      this.fail(error);
      return;
    }
    if (Date.now() - this.lastUnavailableReport < 5000) return;
    this.lastUnavailableReport = Date.now();
    console.error(`log unavailable, retrying: ${error.message}`);
  };
}

/**
 * A part that retries every batch while what it writes to is away (a store, the lake's disk, the
 * log's lag query) says so at most every 5 s, not once a retry.
 */
export function reportEvery5s(part: string): (error: unknown) => void {
  let last = 0;
  return (error) => {
    if (Date.now() - last < 5000) return;
    last = Date.now();
    console.error(`${part}: retrying: ${error instanceof Error ? error.message : String(error)}`);
  };
}
