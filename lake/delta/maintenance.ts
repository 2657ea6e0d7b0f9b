import type { DeltaTable } from "./delta-table.ts";
import { type OptimizeOptions, type OptimizeResult, optimize } from "./optimize.ts";
import { type VacuumOptions, type VacuumResult, vacuum } from "./vacuum.ts";

export { type OptimizeOptions, type OptimizeResult, optimize } from "./optimize.ts";
export { type VacuumOptions, type VacuumResult, vacuum } from "./vacuum.ts";

/**
 * OPTIMIZE and VACUUM on a schedule, next to the stream that writes the table. A task never
 * blocks the writer (compaction rewrites outside the table's commit lock; only its commit is
 * serialized with appends), tasks of one table never overlap (a tick that finds one running is
 * skipped, as a cron job with a lock), and a failure is reported, never thrown into the caller:
 * the next tick tries again.
 */

export type MaintenanceTask = "optimize" | "vacuum";

export type MaintenanceEvent =
  | { task: "optimize"; table: string; result: OptimizeResult; durationMs: number }
  | { task: "vacuum"; table: string; result: VacuumResult; durationMs: number };

export interface MaintenanceSchedule {
  /** period of OPTIMIZE in ms; none when absent */
  optimizeEveryMs?: number;
  /** period of VACUUM in ms; none when absent */
  vacuumEveryMs?: number;
  optimize?: OptimizeOptions;
  vacuum?: VacuumOptions;
  onResult?: (event: MaintenanceEvent) => void;
  onError: (error: unknown, task: MaintenanceTask) => void;
}

export class MaintenanceScheduler {
  private readonly timers: ReturnType<typeof setInterval>[] = [];
  private running: Promise<void> | undefined;
  private stopped = true;

  constructor(
    private readonly table: DeltaTable,
    private readonly schedule: MaintenanceSchedule,
  ) {}

  start(): void {
    if (!this.stopped) return;
    this.stopped = false;
    const every = (ms: number | undefined, task: MaintenanceTask) => {
      if (ms === undefined) return;
      if (!(ms > 0)) throw new RangeError(`${task} period must be positive`);
      const timer = setInterval(() => {
        this.tick(task);
      }, ms);
      // maintenance alone never keeps a process alive
      timer.unref?.();
      this.timers.push(timer);
    };
    every(this.schedule.optimizeEveryMs, "optimize");
    every(this.schedule.vacuumEveryMs, "vacuum");
  }

  /** Stops the timers and waits for a task in progress. */
  async stop(): Promise<void> {
    this.stopped = true;
    for (const timer of this.timers.splice(0)) clearInterval(timer);
    await this.running;
  }

  /**
   * Runs a task now, unless one is already running (then resolves false). The result goes to
   * onResult, a failure to onError; this promise itself never rejects.
   */
  async runNow(task: MaintenanceTask): Promise<boolean> {
    if (this.running) return false;
    const run = this.execute(task);
    this.running = run;
    try {
      await run;
    } finally {
      this.running = undefined;
    }
    return true;
  }

  private tick(task: MaintenanceTask): void {
    if (this.stopped || this.running) return;
    void this.runNow(task);
  }

  private async execute(task: MaintenanceTask): Promise<void> {
    const started = performance.now();
    try {
      if (task === "optimize") {
        const result = await optimize(this.table, this.schedule.optimize);
        this.schedule.onResult?.({
          task,
          table: this.table.dir,
          result,
          durationMs: performance.now() - started,
        });
      } else {
        const result = await vacuum(this.table, this.schedule.vacuum);
        this.schedule.onResult?.({
          task,
          table: this.table.dir,
          result,
          durationMs: performance.now() - started,
        });
      }
    } catch (error) {
      this.schedule.onError(error, task);
    }
  }
}
