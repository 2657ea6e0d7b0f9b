/**
 * Experiment tracking: the port. The shape is MLflow's tracking model (experiments; runs with
 * parameters, metrics by step, tags and artifacts; nested runs through the parent tag), so the
 * embedded adapter and the MLflow REST adapter answer the same calls the same way and one
 * contract suite runs against both (test/ml/tracking/tracking-store.contract.ts).
 */

export type RunStatus = "RUNNING" | "FINISHED" | "FAILED" | "KILLED";

export interface Experiment {
  readonly id: string;
  readonly name: string;
  readonly tags: Readonly<Record<string, string>>;
}

export interface MetricPoint {
  readonly key: string;
  readonly value: number;
  readonly step: number;
  /** epoch ms */
  readonly timestamp: number;
}

export interface RunInfo {
  readonly runId: string;
  readonly experimentId: string;
  readonly name: string;
  readonly status: RunStatus;
  readonly startTime: number;
  readonly endTime: number | undefined;
  readonly parentRunId: string | undefined;
}

export interface Run {
  readonly info: RunInfo;
  readonly params: Readonly<Record<string, string>>;
  /** the latest point of each metric (highest step, then latest timestamp), as MLflow shows it */
  readonly metrics: Readonly<Record<string, MetricPoint>>;
  readonly tags: Readonly<Record<string, string>>;
}

export interface ArtifactEntry {
  readonly path: string;
  readonly size: number;
}

export interface NewRun {
  readonly experimentId: string;
  readonly name: string;
  readonly parentRunId?: string;
  readonly tags?: Readonly<Record<string, string>>;
  readonly startTime?: number;
}

export interface TrackingStore {
  /** TRACKING_INVALID when the name is taken or empty */
  createExperiment(name: string, tags?: Readonly<Record<string, string>>): Promise<Experiment>;
  experimentByName(name: string): Promise<Experiment | undefined>;
  createRun(run: NewRun): Promise<RunInfo>;
  /** a parameter is written once: logging it again with another value is TRACKING_INVALID */
  logParams(runId: string, params: Readonly<Record<string, string | number | boolean>>): Promise<void>;
  logMetrics(runId: string, points: readonly MetricPoint[]): Promise<void>;
  setTags(runId: string, tags: Readonly<Record<string, string>>): Promise<void>;
  endRun(runId: string, status: Exclude<RunStatus, "RUNNING">, endTime?: number): Promise<void>;
  /** TRACKING_NOT_FOUND for an unknown run */
  getRun(runId: string): Promise<Run>;
  metricHistory(runId: string, key: string): Promise<MetricPoint[]>;
  /** runs of an experiment, newest first; with parentRunId only that run's children */
  searchRuns(experimentId: string, filter?: { readonly parentRunId?: string }): Promise<Run[]>;
  logArtifact(runId: string, path: string, bytes: Uint8Array): Promise<void>;
  /** TRACKING_NOT_FOUND for an artifact the run does not have */
  readArtifact(runId: string, path: string): Promise<Uint8Array>;
  listArtifacts(runId: string): Promise<ArtifactEntry[]>;
  close(): Promise<void>;
}

/** MLflow's own tag names, so nested runs and run names show in the MLflow UI as they should. */
export const PARENT_RUN_TAG = "mlflow.parentRunId";
export const RUN_NAME_TAG = "mlflow.runName";

/** The experiment of that name, created when absent (a race with another creator is settled by reading again). */
export async function ensureExperiment(store: TrackingStore, name: string): Promise<Experiment> {
  const existing = await store.experimentByName(name);
  if (existing) return existing;
  try {
    return await store.createExperiment(name);
  } catch (error) {
    const raced = await store.experimentByName(name);
    if (raced) return raced;
    throw error;
  }
}
