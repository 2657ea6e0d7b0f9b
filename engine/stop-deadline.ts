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
