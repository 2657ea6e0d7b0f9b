import { ErrorCodes } from "../../../messages/errors.ts";
import {
  checkArtifactPath,
  checkBatch,
  checkMetric,
  checkName,
  checkParam,
  checkTag,
  invalid,
  paramText,
} from "../tracking-limits.ts";
import {
  type ArtifactEntry,
  type Experiment,
  type MetricPoint,
  type NewRun,
  PARENT_RUN_TAG,
  type Run,
  type RunInfo,
  type RunStatus,
  type TrackingStore,
} from "../tracking-store.ts";
import { MlflowClient, type MlflowClientOptions, tagList, tagMap } from "./mlflow-client.ts";

/**
 * The tracking port on a real MLflow tracking server, through its REST API. Artifacts go through
 * the server's artifact proxy (`mlflow server --serve-artifacts`, the default since MLflow 2), so
 * the node needs no access to the server's storage and a run opens in the MLflow UI with its
 * model file and feature importance. MLflow's batch limits (1000 metrics, 100 parameters, 100
 * tags per log-batch) are kept by sending larger batches in parts.
 */
const CODES = { notFound: ErrorCodes.TRACKING_NOT_FOUND, invalid: ErrorCodes.TRACKING_INVALID } as const;
const ARTIFACT_SCHEME = "mlflow-artifacts:/";

export class MlflowTrackingStore implements TrackingStore {
  private readonly client: MlflowClient;
  private readonly artifactUris = new Map<string, string>();

  constructor(options: MlflowClientOptions) {
    this.client = new MlflowClient(options);
  }

  async createExperiment(name: string, tags: Readonly<Record<string, string>> = {}): Promise<Experiment> {
    checkName("experiment", name);
    for (const [key, value] of Object.entries(tags)) checkTag(key, value);
    const answer = await this.client.call<{ experiment_id: string }>("POST", "experiments/create", CODES, {
      body: { name, tags: tagList(tags) },
    });
    return { id: answer.experiment_id, name, tags: { ...tags } };
  }

  async experimentByName(name: string): Promise<Experiment | undefined> {
    checkName("experiment", name);
    try {
      const answer = await this.client.call<{ experiment: WireExperiment }>(
        "GET",
        "experiments/get-by-name",
        CODES,
        {
          query: { experiment_name: name },
        },
      );
      if (answer.experiment.lifecycle_stage === "deleted") return undefined;
      return {
        id: answer.experiment.experiment_id,
        name: answer.experiment.name,
        tags: tagMap(answer.experiment.tags),
      };
    } catch (error) {
      if ((error as { code?: string }).code === ErrorCodes.TRACKING_NOT_FOUND) return undefined;
      throw error;
    }
  }

  async createRun(run: NewRun): Promise<RunInfo> {
    checkName("run", run.name);
    // MLflow does not check a parent; the embedded store does, and so does this adapter
    if (run.parentRunId !== undefined) await this.getRun(run.parentRunId);
    const tags: Record<string, string> = { ...run.tags };
    if (run.parentRunId !== undefined) tags[PARENT_RUN_TAG] = run.parentRunId;
    for (const [key, value] of Object.entries(tags)) checkTag(key, value);
    const answer = await this.client.call<{ run: WireRun }>("POST", "runs/create", CODES, {
      body: {
        experiment_id: run.experimentId,
        run_name: run.name,
        start_time: run.startTime ?? Date.now(),
        tags: tagList(tags),
      },
    });
    this.artifactUris.set(answer.run.info.run_id, answer.run.info.artifact_uri);
    return toRun(answer.run).info;
  }

  async logParams(runId: string, params: Readonly<Record<string, string | number | boolean>>): Promise<void> {
    const entries = Object.entries(params).map(([key, value]) => ({ key, value: paramText(value) }));
    checkBatch("parameters", entries.length);
    for (const { key, value } of entries) checkParam(key, value);
    for (let i = 0; i < entries.length; i += 100) {
      await this.logBatch(runId, { params: entries.slice(i, i + 100) });
    }
  }

  async logMetrics(runId: string, points: readonly MetricPoint[]): Promise<void> {
    checkBatch("metric points", points.length);
    for (const p of points) checkMetric(p.key, p.value, p.step, p.timestamp);
    if (points.length === 0) {
      await this.getRun(runId);
      return;
    }
    await this.logBatch(runId, {
      metrics: points.map((p) => ({ key: p.key, value: p.value, step: p.step, timestamp: p.timestamp })),
    });
  }

  async setTags(runId: string, tags: Readonly<Record<string, string>>): Promise<void> {
    const entries = tagList(tags);
    checkBatch("tags", entries.length);
    for (const { key, value } of entries) checkTag(key, value);
    for (let i = 0; i < entries.length; i += 100)
      await this.logBatch(runId, { tags: entries.slice(i, i + 100) });
  }

  async endRun(runId: string, status: Exclude<RunStatus, "RUNNING">, endTime = Date.now()): Promise<void> {
    await this.client.call("POST", "runs/update", CODES, {
      body: { run_id: runId, status, end_time: endTime },
    });
  }

  async getRun(runId: string): Promise<Run> {
    const answer = await this.client.call<{ run: WireRun }>("GET", "runs/get", CODES, {
      query: { run_id: runId },
    });
    this.artifactUris.set(runId, answer.run.info.artifact_uri);
    return toRun(answer.run);
  }

  async metricHistory(runId: string, key: string): Promise<MetricPoint[]> {
    const points: MetricPoint[] = [];
    let pageToken: string | undefined;
    do {
      const answer = await this.client.call<{ metrics?: WireMetric[]; next_page_token?: string }>(
        "GET",
        "metrics/get-history",
        CODES,
        { query: { run_id: runId, metric_key: key, ...(pageToken ? { page_token: pageToken } : {}) } },
      );
      for (const m of answer.metrics ?? []) points.push(toMetric(m));
      pageToken = answer.next_page_token || undefined;
    } while (pageToken);
    return points.sort((a, b) => a.step - b.step || a.timestamp - b.timestamp);
  }

  async searchRuns(experimentId: string, filter: { readonly parentRunId?: string } = {}): Promise<Run[]> {
    if (filter.parentRunId !== undefined && !/^[0-9a-f]{32}$/.test(filter.parentRunId)) return [];
    const runs: Run[] = [];
    let pageToken: string | undefined;
    do {
      const answer = await this.client.call<{ runs?: WireRun[]; next_page_token?: string }>(
        "POST",
        "runs/search",
        CODES,
        {
          body: {
            experiment_ids: [experimentId],
            ...(filter.parentRunId === undefined
              ? {}
              : { filter: `tags.\`${PARENT_RUN_TAG}\` = '${filter.parentRunId}'` }),
            order_by: ["attributes.start_time DESC"],
            max_results: 1000,
            ...(pageToken ? { page_token: pageToken } : {}),
          },
        },
      );
      for (const run of answer.runs ?? []) runs.push(toRun(run));
      pageToken = answer.next_page_token || undefined;
    } while (pageToken);
    return runs;
  }

  async logArtifact(runId: string, path: string, bytes: Uint8Array): Promise<void> {
    checkArtifactPath(path);
    await this.client.artifactRequest(
      "PUT",
      `/${await this.artifactPrefix(runId)}/${encodePath(path)}`,
      CODES,
      bytes,
    );
  }

  async readArtifact(runId: string, path: string): Promise<Uint8Array> {
    checkArtifactPath(path);
    const response = await this.client.artifactRequest(
      "GET",
      `/${await this.artifactPrefix(runId)}/${encodePath(path)}`,
      CODES,
    );
    return new Uint8Array(await response.arrayBuffer());
  }

  async listArtifacts(runId: string): Promise<ArtifactEntry[]> {
    const prefix = await this.artifactPrefix(runId);
    const entries: ArtifactEntry[] = [];
    const walk = async (folder: string): Promise<void> => {
      const query = new URLSearchParams({ path: folder === "" ? prefix : `${prefix}/${folder}` });
      const response = await this.client.artifactRequest("GET", `?${query}`, CODES);
      const listing = (await response.json()) as {
        files?: { path: string; is_dir: boolean; file_size?: number | string }[];
      };
      for (const file of listing.files ?? []) {
        const path = folder === "" ? file.path : `${folder}/${file.path}`;
        if (file.is_dir) await walk(path);
        else entries.push({ path, size: Number(file.file_size ?? 0) });
      }
    };
    await walk("");
    return entries.sort((a, b) => a.path.localeCompare(b.path));
  }

  async close(): Promise<void> {
    this.artifactUris.clear();
  }

  private async logBatch(runId: string, batch: Record<string, unknown>): Promise<void> {
    await this.client.call("POST", "runs/log-batch", CODES, { body: { run_id: runId, ...batch } });
  }

  /** `<experiment>/<run>/artifacts` from the run's `mlflow-artifacts:/...` URI. */
  private async artifactPrefix(runId: string): Promise<string> {
    let uri = this.artifactUris.get(runId);
    if (uri === undefined) {
      await this.getRun(runId);
      uri = this.artifactUris.get(runId)!;
    }
    if (!uri.startsWith(ARTIFACT_SCHEME)) {
      invalid(
        `run ${runId} stores artifacts at ${uri.split(":")[0]}:, which the REST API cannot write: start the MLflow server with --serve-artifacts`,
      );
    }
    return uri.slice(ARTIFACT_SCHEME.length).replace(/^\/+/, "");
  }
}

interface WireExperiment {
  experiment_id: string;
  name: string;
  lifecycle_stage?: string;
  tags?: { key: string; value: string }[];
}

interface WireMetric {
  key: string;
  value: number | string;
  step?: number | string;
  timestamp?: number | string;
}

interface WireRun {
  info: {
    run_id: string;
    experiment_id: string;
    run_name?: string;
    status: RunStatus;
    start_time?: number | string;
    end_time?: number | string;
    artifact_uri: string;
  };
  data?: {
    metrics?: WireMetric[];
    params?: { key: string; value: string }[];
    tags?: { key: string; value: string }[];
  };
}

function toMetric(m: WireMetric): MetricPoint {
  return {
    key: m.key,
    value: Number(m.value),
    step: Number(m.step ?? 0),
    timestamp: Number(m.timestamp ?? 0),
  };
}

function toRun(run: WireRun): Run {
  const tags = tagMap(run.data?.tags);
  const parent = tags[PARENT_RUN_TAG];
  return {
    info: {
      runId: run.info.run_id,
      experimentId: run.info.experiment_id,
      name: run.info.run_name ?? tags["mlflow.runName"] ?? "",
      status: run.info.status,
      startTime: Number(run.info.start_time ?? 0),
      endTime:
        run.info.end_time === undefined || run.info.end_time === null ? undefined : Number(run.info.end_time),
      parentRunId: parent,
    },
    params: tagMap(run.data?.params),
    tags,
    metrics: Object.fromEntries((run.data?.metrics ?? []).map((m) => [m.key, toMetric(m)])),
  };
}

function encodePath(path: string): string {
  return path.split("/").map(encodeURIComponent).join("/");
}
