/**
 * A job run every `everyMs` that never overlaps itself (a tick that finds it running is
 * skipped, as a cron job with a lock) and never throws into its caller: a failure is reported
 * and the next tick tries again. The gold jobs run on it beside the stream.
 */
export class PeriodicJob<Result> {
  private timer: ReturnType<typeof setInterval> | undefined;
  private running: Promise<Result | undefined> | undefined;

  constructor(
    private readonly options: {
      readonly name: string;
      readonly everyMs: number;
      readonly run: () => Promise<Result>;
      readonly onResult?: (result: Result) => void;
      readonly onError: (error: unknown) => void;
    },
  ) {
    if (!(options.everyMs > 0)) throw new RangeError(`${options.name}: the period must be positive`);
  }

  start(): void {
    if (this.timer) return;
    this.timer = setInterval(() => {
      if (!this.running) void this.runNow();
    }, this.options.everyMs);
    this.timer.unref?.();
  }

  /** runs the job now, or waits for the run in progress; undefined when the run failed */
  runNow(): Promise<Result | undefined> {
    this.running ??= this.options
      .run()
      .then(
        (result) => {
          this.options.onResult?.(result);
          return result;
        },
        (error: unknown) => {
          this.options.onError(error);
          return undefined;
        },
      )
      .finally(() => {
        this.running = undefined;
      });
    return this.running;
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    this.timer = undefined;
    await this.running;
  }
}
