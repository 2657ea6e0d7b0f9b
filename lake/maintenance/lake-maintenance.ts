import { ErrorCodes, PlatformError } from "../../messages/errors.ts";
import type { DeltaTable } from "../delta/delta-table.ts";
import { type MaintenanceEvent, MaintenanceScheduler, type MaintenanceTask } from "../delta/maintenance.ts";

/**
 * OPTIMIZE and VACUUM of every lake table on a schedule (one scheduler per table, so a long
 * compaction of bronze never delays silver's), and the same tasks as commands. Neither blocks a
 * sink: compaction rewrites outside the table's commit lock, only its commit queues behind the
 * sink's appends (`lake/delta/maintenance.ts`).
 *
 * The schedule is the lake's defaults with per-table overrides from configuration:
 * `silver_sensor_readings:optimize=300000,vacuum=off;bronze_sensor_readings:optimize=off`.
 */
export interface TableSchedule {
  readonly optimizeEveryMs: number | undefined;
  readonly vacuumEveryMs: number | undefined;
}

export interface LakeMaintenanceOptions {
  readonly tables: ReadonlyMap<string, DeltaTable>;
  readonly defaults: TableSchedule;
  /** per-table overrides, in the configuration's text form */
  readonly overrides?: string | undefined;
  readonly vacuumRetentionHours: number;
  readonly onResult?: (event: MaintenanceEvent) => void;
  readonly onError: (error: unknown, task: MaintenanceTask, table: string) => void;
}

export function parseSchedules(
  text: string | undefined,
  tables: readonly string[],
  defaults: TableSchedule,
): Map<string, TableSchedule> {
  const schedules = new Map(tables.map((t) => [t, { ...defaults }]));
  for (const part of (text ?? "").split(";").filter(Boolean)) {
    const [table, settings] = part.split(":") as [string, string | undefined];
    const schedule = schedules.get(table);
    if (!schedule || settings === undefined) {
      throw new PlatformError(
        ErrorCodes.CONFIG_INVALID,
        `LAKE_MAINTENANCE names '${table}'; tables: ${tables.join(", ")}`,
      );
    }
    for (const setting of settings.split(",")) {
      const [task, value] = setting.split("=") as [string, string];
      const ms = value === "off" ? undefined : Number(value);
      if (ms !== undefined && !(Number.isInteger(ms) && ms >= 1000)) {
        throw new PlatformError(
          ErrorCodes.CONFIG_INVALID,
          `LAKE_MAINTENANCE ${table}: ${task} must be off or >= 1000 ms`,
        );
      }
      if (task === "optimize") schedule.optimizeEveryMs = ms;
      else if (task === "vacuum") schedule.vacuumEveryMs = ms;
      else throw new PlatformError(ErrorCodes.CONFIG_INVALID, `LAKE_MAINTENANCE ${table}: no task '${task}'`);
    }
  }
  return schedules;
}

export class LakeMaintenance {
  private readonly schedulers = new Map<string, MaintenanceScheduler>();
  private readonly waiting = new Map<string, { event?: MaintenanceEvent; error?: unknown }>();
  readonly schedules: ReadonlyMap<string, TableSchedule>;

  constructor(options: LakeMaintenanceOptions) {
    this.schedules = parseSchedules(options.overrides, [...options.tables.keys()], options.defaults);
    for (const [name, table] of options.tables) {
      const schedule = this.schedules.get(name) as TableSchedule;
      this.schedulers.set(
        name,
        new MaintenanceScheduler(table, {
          ...(schedule.optimizeEveryMs ? { optimizeEveryMs: schedule.optimizeEveryMs } : {}),
          ...(schedule.vacuumEveryMs ? { vacuumEveryMs: schedule.vacuumEveryMs } : {}),
          vacuum: { retentionHours: options.vacuumRetentionHours },
          onResult: (event) => {
            const waiting = this.waiting.get(name);
            if (waiting) waiting.event = event;
            options.onResult?.(event);
          },
          onError: (error, task) => {
            const waiting = this.waiting.get(name);
            if (waiting) waiting.error = error;
            options.onError(error, task, name);
          },
        }),
      );
    }
  }

  start(): void {
    for (const scheduler of this.schedulers.values()) scheduler.start();
  }

  /**
   * Runs a task on a table now (the command behind the API): its result, or
   * LAKE_MAINTENANCE_RUNNING when a task is already running on that table, or the task's error.
   * The outcome goes to onResult / onError as well, as a scheduled run's does.
   */
  async run(table: string, task: MaintenanceTask): Promise<MaintenanceEvent> {
    const scheduler = this.schedulers.get(table);
    if (!scheduler) throw new PlatformError(ErrorCodes.LAKE_TABLE_UNKNOWN, `no lake table is named ${table}`);
    // a table's tasks never overlap, so the outcome recorded during this run is this run's
    const outcome: { event?: MaintenanceEvent; error?: unknown } = {};
    this.waiting.set(table, outcome);
    try {
      const ran = await scheduler.runNow(task);
      if (!ran) {
        throw new PlatformError(
          ErrorCodes.LAKE_MAINTENANCE_RUNNING,
          `a maintenance task is running on ${table}; try again`,
        );
      }
    } finally {
      this.waiting.delete(table);
    }
    if (outcome.event) return outcome.event;
    throw outcome.error ?? new PlatformError(ErrorCodes.INTERNAL, `${task} of ${table} reported nothing`);
  }

  async stop(): Promise<void> {
    await Promise.all([...this.schedulers.values()].map((s) => s.stop()));
  }
}
