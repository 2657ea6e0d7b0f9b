import { ErrorCodes, PlatformError } from "../messages/errors.ts";

/**
 * How long a stopping part of the engine waits for its consumer: a poll or a close that sits in
 * a consumer-group rejoin which never settles (the coordinator waiting for members that are
 * leaving at the same moment) must not keep a node from stopping. Past the deadline the part
 * gives up waiting, as Kafka Streams' `close(timeout)` does; what it did not commit is read again
 * by the partition's next owner against the saved state, so giving up loses nothing.
 * Longer than the group's rebalance timeout (15 s), so a rejoin that does settle is waited for.
 */
export const STOP_DEADLINE_MS = 20_000;

/** waits for `work` at most `ms`; rejects with LOG_REBALANCE naming `what` past it */
export async function withinStopDeadline<T>(
  work: Promise<T>,
  what: string,
  ms = STOP_DEADLINE_MS,
): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () =>
        reject(
          new PlatformError(ErrorCodes.LOG_REBALANCE, `gave up waiting ${ms} ms for ${what} while stopping`),
        ),
      ms,
    );
  });
  try {
    return await Promise.race([work, deadline]);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * One stop's time, shared by its parts: a node under overload cannot finish its backlog before
 * its supervisor (a wrapper, systemd, Kubernetes' grace period) kills it, so a stop is bounded
 * the way Kafka Streams' `close(timeout)` is. Work that may be abandoned (a drain, a last
 * checkpoint, in-flight batches) takes what is left minus `closeReserveMs`; what must still run
 * (leaving the groups, closing the log) has that reserve. Work abandoned leaves its offsets
 * uncommitted, so the next owner reads it again against the saved state: nothing acknowledged
 * is lost, and nothing is counted twice.
 */
export class StopBudget {
  private readonly endsAt: number;
  readonly closeReserveMs: number;

  constructor(
    readonly totalMs: number,
    private readonly now: () => number = () => performance.now(),
    closeReserveMs = Math.min(MAX_CLOSE_RESERVE_MS, Math.floor(totalMs / 4)),
  ) {
    this.endsAt = now() + totalMs;
    this.closeReserveMs = closeReserveMs;
  }

  /**
   * the budget of a step that leaves part of the work time to the steps after it (the sensor
   * engine leaves the aggregates time for their last checkpoint); the same close reserve
   */
  part(share: number): StopBudget {
    const forWork = Math.floor(this.forWorkMs() * share);
    return new StopBudget(forWork + this.closeReserveMs, this.now, this.closeReserveMs);
  }

  /** what is left of the whole budget, never below 0 */
  remainingMs(): number {
    return Math.max(0, this.endsAt - this.now());
  }

  /** what is left for work that may be abandoned: the budget minus the closes' reserve */
  forWorkMs(): number {
    return Math.max(0, this.remainingMs() - this.closeReserveMs);
  }

  /** what a close may wait (a group's leave, a log's close): at least its share of the reserve */
  forCloseMs(): number {
    return Math.max(this.remainingMs(), MIN_CLOSE_MS);
  }

  /** the time past the budget so far, 0 within it */
  overrunMs(): number {
    return Math.max(0, this.now() - this.endsAt);
  }
}

/** a budget keeps at most this much for the closes that follow the abandoned work */
const MAX_CLOSE_RESERVE_MS = 5_000;
/** a close is always given this much, even past the budget: a member that leaves is handed over at once */
const MIN_CLOSE_MS = 1_000;
