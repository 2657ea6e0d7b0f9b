/**
 * A sink thread's entry for the supervisor's tests: sinks that only count, a dead letter at
 * start, and the failures the setup asks for.
 */
import { deadLetter } from "../../../messages/dead-letter.ts";
import { ErrorCodes, PlatformError } from "../../../messages/errors.ts";
import { serveSinkThread } from "../../../sinks/sink-thread/serve-sink-thread.ts";

export interface FakeSinkSetup {
  readonly failStart?: boolean;
  /** a sink whose loop stops for good this long after the start */
  readonly failSinkAfterMs?: number;
  /** the thread throws out of its event loop this long after the start */
  readonly crashAfterMs?: number;
  /** how long the sinks take to stop */
  readonly stopMs?: number;
}

serveSinkThread<FakeSinkSetup>(async (setup, report) => {
  if (setup.failStart) throw new PlatformError(ErrorCodes.INFRA_UNAVAILABLE, "the store is not there");
  report.deadLetter(
    deadLetter("log:t/0@0", ErrorCodes.DECODE_FAILED, "not a reading", new Uint8Array([1, 2]), 0),
    "t",
  );
  if (setup.failSinkAfterMs !== undefined)
    setTimeout(
      () => report.fail(new PlatformError(ErrorCodes.SCHEMA_VIOLATION, "a sink stopped")),
      setup.failSinkAfterMs,
    );
  if (setup.crashAfterMs !== undefined)
    setTimeout(() => {
      throw new Error("the thread crashed");
    }, setup.crashAfterMs);
  const started = Date.now();
  return {
    stats: () => [
      {
        name: "fake",
        rows: Date.now() - started,
        batches: 1,
        writeFailures: 0,
        deadLetters: 1,
        pending: 0,
        blocked: false,
        lag: 0,
      },
    ],
    stop: async () => {
      await Bun.sleep(setup.stopMs ?? 0);
      return [];
    },
  };
});
