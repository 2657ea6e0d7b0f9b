import type { LakeTable } from "../lake/tables/lake-table.ts";
import type { Log } from "../log/log.ts";
import { ErrorCodes, isPlatformError, PlatformError } from "../messages/errors.ts";
import {
  type MaterializeResult,
  materialize,
  materializeIncremental,
} from "./materialize/batch-materializer.ts";
import { type StreamBinding, streamBindingProblem } from "./materialize/stream-materializer.ts";
import { LakeSources } from "./offline/lake-sources.ts";
import {
  type EntityFrame,
  type RetrievalOutput,
  type RetrievalResult,
  retrieveTrainingSet,
} from "./offline/point-in-time.ts";
import { OnlineFeatureServer, type OnlineRequest, type OnlineResult } from "./online/online-serving.ts";
import type { OnlineStore } from "./online/online-store.ts";
import { FeatureRegistry } from "./registry/feature-registry.ts";
import type { RegisteredView, ViewStatistics } from "./registry/registry-records.ts";
import { computeStatistics } from "./statistics.ts";
import type { FeatureViewDefinition } from "./views/feature-view.ts";
import type { OnDemandView } from "./views/on-demand-view.ts";

/**
 * The feature store's public face: the registry, the offline store (the lake's gold tables), the
 * online store and the operations over them, as the node's API and `bun run features` use them.
 * It holds no loop of its own; the node runs the streaming materializer (`node/features.ts`).
 */
export interface FeatureStoreOptions {
  readonly log: Log;
  readonly lakeDir: string;
  readonly online: OnlineStore;
  readonly lakeTables?: readonly LakeTable[];
  readonly onDemand?: readonly OnDemandView[];
  readonly registryTopic?: string;
}

export interface TrainingSetRequest {
  /** view names, `name` (latest) or `name@version` */
  readonly views: readonly string[];
  readonly entities: EntityFrame;
  readonly timestampColumn?: string;
  readonly fullFeatureNames?: boolean;
  /** read every source table as it was at this version (per table) */
  readonly tableVersions?: Readonly<Record<string, number>>;
  readonly onProgress?: (fraction: number) => void;
}

export interface TrainingSet extends RetrievalResult {
  /** the statistics of each joined view version: the drift reference of a model trained on it */
  readonly references: readonly { view: string; version: number; statistics: ViewStatistics | undefined }[];
}

export class FeatureStore {
  /** newest event time written online per view version, for freshness */
  private readonly newest = new Map<string, number>();

  private constructor(
    readonly registry: FeatureRegistry,
    readonly lake: LakeSources,
    readonly online: OnlineStore,
    readonly server: OnlineFeatureServer,
    private readonly onDemand: ReadonlyMap<string, OnDemandView>,
  ) {}

  static async open(options: FeatureStoreOptions): Promise<FeatureStore> {
    const lake = new LakeSources(options.lakeDir, options.lakeTables);
    const registry = await FeatureRegistry.open(options.log, lake, {
      ...(options.registryTopic ? { topic: options.registryTopic } : {}),
    });
    const onDemand = new Map((options.onDemand ?? []).map((v) => [v.description.name, v]));
    return new FeatureStore(
      registry,
      lake,
      options.online,
      new OnlineFeatureServer(registry, options.online, onDemand),
      onDemand,
    );
  }

  /**
   * Registers the views and on-demand views defined in code; unchanged ones keep their version.
   * A view the registry refuses (an operator registered a version this code's definition cannot
   * follow) is reported and left out, so one view cannot stop a node from starting.
   */
  async registerCode(
    views: readonly FeatureViewDefinition[],
    onRefused: (view: string, error: PlatformError) => void = () => {},
  ): Promise<RegisteredView[]> {
    const registered: RegisteredView[] = [];
    for (const view of views) {
      try {
        registered.push(await this.registry.register(view));
      } catch (error) {
        if (!isPlatformError(error, ErrorCodes.FEATURE_VIEW_INCOMPATIBLE)) throw error;
        onRefused(view.name, error);
      }
    }
    for (const view of this.onDemand.values()) {
      try {
        await this.registry.registerOnDemand(view);
      } catch (error) {
        // its source view was refused above: it cannot be served either
        if (!isPlatformError(error, ErrorCodes.FEATURE_VIEW_NOT_FOUND)) throw error;
        onRefused(view.description.name, error);
      }
    }
    return registered;
  }

  /** the stream views among `views` bound to their source tables */
  streamBindings(views: readonly RegisteredView[]): StreamBinding[] {
    const bindings: StreamBinding[] = [];
    for (const view of views) {
      if (!view.definition.source.stream) continue;
      const table = this.lake.definition(view.definition.source.table);
      if (!table) continue;
      const binding = { view, table };
      const problem = streamBindingProblem(binding);
      if (problem) throw new PlatformError(ErrorCodes.FEATURE_VIEW_INVALID, problem);
      bindings.push(binding);
    }
    return bindings;
  }

  readOnline(request: OnlineRequest): Promise<OnlineResult> {
    return this.server.read(request);
  }

  async materialize(
    name: string,
    range: { from: number; to: number },
    version?: number,
  ): Promise<MaterializeResult> {
    const view = this.registry.view(name, version ?? "latest");
    const result = await materialize(
      view,
      await this.lake.snapshot(view.definition.source.table),
      this.online,
      range,
    );
    return result;
  }

  async materializeIncremental(name: string, version?: number): Promise<MaterializeResult> {
    const view = this.registry.view(name, version ?? "latest");
    return materializeIncremental(view, await this.lake.table(view.definition.source.table), this.online);
  }

  /** computes a view version's statistics over its table now and stores them in the registry */
  async computeStatistics(name: string, version?: number): Promise<ViewStatistics> {
    const view = this.registry.view(name, version ?? "latest");
    const statistics = await computeStatistics(view, await this.lake.snapshot(view.definition.source.table));
    await this.registry.saveStatistics(statistics);
    return statistics;
  }

  async trainingSet(
    request: TrainingSetRequest,
    output: RetrievalOutput = { kind: "rows" },
  ): Promise<TrainingSet> {
    await this.registry.refresh();
    const views = request.views.map((ref) => {
      const [name, version] = ref.split("@", 2) as [string, string | undefined];
      const n = version === undefined ? "latest" : Number(version);
      if (n !== "latest" && !Number.isSafeInteger(n))
        throw new PlatformError(
          ErrorCodes.BAD_REQUEST,
          `'${ref.slice(0, 80)}' is not <view> or <view>@<version>`,
        );
      return this.registry.view(name, n);
    });
    const inputs = [];
    for (const view of views) {
      const table = view.definition.source.table;
      const version = request.tableVersions?.[table];
      inputs.push({
        view,
        snapshot: await this.lake.snapshot(table, version === undefined ? undefined : { version }),
      });
    }
    const result = await retrieveTrainingSet(
      {
        views: inputs,
        entities: request.entities,
        ...(request.timestampColumn ? { timestampColumn: request.timestampColumn } : {}),
        ...(request.fullFeatureNames ? { fullFeatureNames: true } : {}),
        ...(request.onProgress ? { onProgress: request.onProgress } : {}),
      },
      output,
    );
    return {
      ...result,
      references: views.map((v) => ({
        view: v.name,
        version: v.version,
        statistics: this.registry.statistics(v.name, v.version),
      })),
    };
  }

  /** the streaming materializer reports what it wrote */
  observeWritten(view: string, version: number, newestEventTime: number): void {
    const key = `${view}@${version}`;
    if (newestEventTime > (this.newest.get(key) ?? 0)) this.newest.set(key, newestEventTime);
  }

  /** per view version: the newest event time written online by this node (freshness) */
  freshness(): { view: string; version: number; newestEventTime: number }[] {
    return [...this.newest].map(([key, newestEventTime]) => {
      const at = key.lastIndexOf("@");
      return { view: key.slice(0, at), version: Number(key.slice(at + 1)), newestEventTime };
    });
  }

  async close(): Promise<void> {
    await this.online.close();
  }
}
