import type { DeltaField } from "../../lake/delta/schema.ts";
import type { Log, ProducerRecord } from "../../log/log.ts";
import { ErrorCodes, isPlatformError, PlatformError } from "../../messages/errors.ts";
import { Topics } from "../../messages/topics.ts";
import { type FeatureViewDefinition, FeatureViewDefinition as ViewSchema } from "../views/feature-view.ts";
import type { OnDemandView } from "../views/on-demand-view.ts";
import { evolutionProblems, sourceProblems } from "./compatibility.ts";
import {
  fingerprintOf,
  RECORD_VERSION,
  RegisteredOnDemandView,
  RegisteredView,
  ViewStatistics,
} from "./registry-records.ts";

/**
 * The feature registry: feature views, on-demand views and their statistics, kept in the
 * compacted `_feature_views` topic of the log as the schema registry keeps `_schemas`. Every
 * change is appended first and applied once durable; `open` replays the topic, `refresh` reads
 * what other nodes appended since.
 *
 * Versions: registering a definition equal to a registered version (same fingerprint) returns
 * that version; a changed one becomes the next version, after the compatibility rules
 * (`compatibility.ts`) against the source table's schema and the earlier versions. Every version
 * stays readable, so a model trained on v2 keeps reading v2 online while v3 is materialized.
 */
export interface SourceCatalog {
  /** the table's current schema (the Delta snapshot's, or the catalogue's before the first write) */
  schema(table: string): Promise<readonly DeltaField[] | undefined>;
  /** the table's current Delta version, undefined before its first commit */
  version(table: string): Promise<number | undefined>;
}

export interface ViewSearch {
  /** words matched against name, description, owner, entity, tags and feature names */
  readonly q?: string;
  readonly owner?: string;
  readonly entity?: string;
  /** `key` or `key=value` */
  readonly tag?: string;
}

export interface ViewSummary {
  readonly name: string;
  readonly kind: "view" | "on_demand";
  readonly latestVersion: number;
  readonly versions: number;
  readonly entity: string | undefined;
  readonly description: string;
  readonly owner: string;
  readonly tags: Readonly<Record<string, string>>;
  readonly features: readonly { name: string; type: string }[];
  readonly source: string | undefined;
  readonly stream: boolean;
}

const REPLAY_BATCH = 1000;
const MAX_ATTEMPTS = 10;

export class FeatureRegistry {
  private readonly views = new Map<string, RegisteredView[]>();
  private readonly onDemand = new Map<string, RegisteredOnDemandView[]>();
  private readonly stats = new Map<string, ViewStatistics>();
  private nextOffset = 0;
  private writes: Promise<unknown> = Promise.resolve();
  private reading: Promise<void> | undefined;
  /** records of the topic that did not parse (written by a newer node, or damaged) */
  skipped = 0;

  private constructor(
    private readonly log: Log,
    private readonly catalog: SourceCatalog,
    private readonly topic: string,
    private readonly now: () => number,
  ) {}

  static async open(
    log: Log,
    catalog: SourceCatalog,
    options: { topic?: string; now?: () => number } = {},
  ): Promise<FeatureRegistry> {
    const topic = options.topic ?? Topics.featureViews;
    await log.createTopic({ name: topic, partitions: 1, compacted: true });
    const registry = new FeatureRegistry(log, catalog, topic, options.now ?? Date.now);
    await registry.refresh();
    return registry;
  }

  /** reads what was appended since the last read (other nodes' registrations) */
  refresh(): Promise<void> {
    this.reading ??= this.readTail().finally(() => {
      this.reading = undefined;
    });
    return this.reading;
  }

  private async readTail(): Promise<void> {
    const tp = { topic: this.topic, partition: 0 };
    const end = await this.log.endOffset(tp);
    while (this.nextOffset < end) {
      const records = await this.log.read(tp, { fromOffset: this.nextOffset, maxRecords: REPLAY_BATCH });
      if (records.length === 0) break;
      for (const record of records) {
        this.apply(record.key, record.value);
        this.nextOffset = record.offset + 1;
      }
    }
  }

  private apply(key: string | null, value: Uint8Array | null): void {
    if (key === null || value === null) return;
    let json: unknown;
    try {
      json = JSON.parse(new TextDecoder().decode(value));
    } catch (error) {
      if (!(error instanceof SyntaxError)) throw error;
      this.skipped++;
      return;
    }
    if (key.startsWith("view/")) {
      const parsed = RegisteredView.safeParse(json);
      if (!parsed.success) return void this.skipped++;
      addVersion(this.views, parsed.data);
    } else if (key.startsWith("on-demand/")) {
      const parsed = RegisteredOnDemandView.safeParse(json);
      if (!parsed.success) return void this.skipped++;
      addVersion(this.onDemand, parsed.data);
    } else if (key.startsWith("stats/")) {
      const parsed = ViewStatistics.safeParse(json);
      if (!parsed.success) return void this.skipped++;
      this.stats.set(`${parsed.data.view}@${parsed.data.version}`, parsed.data);
    }
  }

  /**
   * Registers a view: its version when an equal definition is registered, else the next version
   * (FEATURE_VIEW_INCOMPATIBLE when the source table or an earlier version says no).
   */
  register(input: FeatureViewDefinition): Promise<RegisteredView> {
    const parsed = ViewSchema.safeParse(input);
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      return Promise.reject(
        new PlatformError(
          ErrorCodes.FEATURE_VIEW_INVALID,
          `not a feature view: ${issue?.path.map(String).join(".") || "(root)"} ${issue?.message}`,
        ),
      );
    }
    const definition = parsed.data;
    return this.serialized(async () => {
      const fingerprint = fingerprintOf(definition);
      for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
        await this.refresh();
        const versions = this.views.get(definition.name) ?? [];
        const same = versions.find((v) => v.fingerprint === fingerprint);
        if (same) return same;
        const schema = await this.catalog.schema(definition.source.table);
        if (!schema)
          throw new PlatformError(
            ErrorCodes.FEATURE_VIEW_INVALID,
            `view ${definition.name} reads table ${definition.source.table}, which the lake does not have`,
          );
        const problems = [
          ...sourceProblems(definition, schema),
          ...evolutionProblems(
            definition,
            versions.map((v) => v.definition),
          ),
        ];
        if (problems.length > 0)
          throw new PlatformError(
            ErrorCodes.FEATURE_VIEW_INCOMPATIBLE,
            `view ${definition.name} cannot be registered: ${problems.join("; ")}`,
            { details: { problems } },
          );
        const record: RegisteredView = {
          recordVersion: RECORD_VERSION,
          kind: "view",
          name: definition.name,
          version: (versions.at(-1)?.version ?? 0) + 1,
          fingerprint,
          registeredAt: this.now(),
          definition,
          lineage: {
            table: definition.source.table,
            tableVersion: (await this.catalog.version(definition.source.table)) ?? null,
          },
        };
        await this.append(`view/${record.name}/${record.version}/${fingerprint}`, record);
        await this.refresh();
        // another node may have taken this version first: then try the next one
        const held = this.views.get(record.name)?.find((v) => v.version === record.version);
        if (held?.fingerprint === fingerprint) return held;
      }
      throw new PlatformError(
        ErrorCodes.DELTA_COMMIT_CONFLICT,
        `view ${definition.name}: ${MAX_ATTEMPTS} registrations raced this one; try again`,
      );
    });
  }

  registerOnDemand(view: OnDemandView): Promise<RegisteredOnDemandView> {
    const definition = view.description;
    return this.serialized(async () => {
      const fingerprint = fingerprintOf(definition);
      for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
        await this.refresh();
        const versions = this.onDemand.get(definition.name) ?? [];
        const same = versions.find((v) => v.fingerprint === fingerprint);
        if (same) return same;
        for (const source of definition.sources)
          if (!this.views.has(source))
            throw new PlatformError(
              ErrorCodes.FEATURE_VIEW_NOT_FOUND,
              `on-demand view ${definition.name} reads view ${source}, which is not registered`,
            );
        const record: RegisteredOnDemandView = {
          recordVersion: RECORD_VERSION,
          kind: "on_demand",
          name: definition.name,
          version: (versions.at(-1)?.version ?? 0) + 1,
          fingerprint,
          registeredAt: this.now(),
          definition,
        };
        await this.append(`on-demand/${record.name}/${record.version}/${fingerprint}`, record);
        await this.refresh();
        const held = this.onDemand.get(record.name)?.find((v) => v.version === record.version);
        if (held?.fingerprint === fingerprint) return held;
      }
      throw new PlatformError(
        ErrorCodes.DELTA_COMMIT_CONFLICT,
        `on-demand view ${definition.name}: ${MAX_ATTEMPTS} registrations raced this one; try again`,
      );
    });
  }

  /** a version of a view (`latest` by default); FEATURE_VIEW_NOT_FOUND names what exists */
  view(name: string, version: number | "latest" = "latest"): RegisteredView {
    const versions = this.views.get(name);
    if (!versions)
      throw new PlatformError(
        ErrorCodes.FEATURE_VIEW_NOT_FOUND,
        `no feature view '${clip(name)}' (GET /api/features lists them)`,
      );
    const found = version === "latest" ? versions.at(-1) : versions.find((v) => v.version === version);
    if (!found)
      throw new PlatformError(
        ErrorCodes.FEATURE_VIEW_NOT_FOUND,
        `feature view ${name} has no version ${version} (versions: ${versions.map((v) => v.version).join(", ")})`,
      );
    return found;
  }

  versions(name: string): readonly RegisteredView[] {
    this.view(name);
    return this.views.get(name) ?? [];
  }

  onDemandView(name: string, version: number | "latest" = "latest"): RegisteredOnDemandView {
    const versions = this.onDemand.get(name);
    const found = version === "latest" ? versions?.at(-1) : versions?.find((v) => v.version === version);
    if (!found)
      throw new PlatformError(
        ErrorCodes.FEATURE_VIEW_NOT_FOUND,
        `no on-demand view '${clip(name)}'${version === "latest" ? "" : ` version ${version}`}`,
      );
    return found;
  }

  has(name: string): boolean {
    return this.views.has(name);
  }

  isOnDemand(name: string): boolean {
    return this.onDemand.has(name);
  }

  /** the views and on-demand views matching every given criterion, by name */
  search(criteria: ViewSearch = {}): ViewSummary[] {
    const summaries: ViewSummary[] = [];
    for (const versions of this.views.values()) {
      const { definition: d, version } = versions.at(-1)!;
      summaries.push({
        ...{
          name: d.name,
          kind: "view",
          latestVersion: version,
          versions: versions.length,
          entity: d.entity,
        },
        ...{
          description: d.description,
          owner: d.owner,
          tags: d.tags,
          source: d.source.table,
          stream: d.source.stream,
        },
        features: d.features.map((f) => ({ name: f.name, type: f.type })),
      });
    }
    for (const versions of this.onDemand.values()) {
      const { definition: d, version } = versions.at(-1)!;
      const entity = d.sources.map((s) => this.views.get(s)?.at(-1)?.definition.entity).find(Boolean);
      summaries.push({
        ...{ name: d.name, kind: "on_demand", latestVersion: version, versions: versions.length, entity },
        ...{ description: d.description, owner: d.owner, tags: d.tags, source: undefined, stream: false },
        features: d.features,
      });
    }
    return summaries.filter((s) => matches(s, criteria)).sort((a, b) => (a.name < b.name ? -1 : 1));
  }

  saveStatistics(statistics: ViewStatistics): Promise<void> {
    this.view(statistics.view, statistics.version);
    return this.serialized(async () => {
      await this.append(`stats/${statistics.view}/${statistics.version}`, statistics);
    });
  }

  /** the statistics of a view version, the drift reference of models trained on it */
  statistics(name: string, version: number): ViewStatistics | undefined {
    return this.stats.get(`${name}@${version}`);
  }

  private async append(key: string, value: unknown): Promise<void> {
    const record: ProducerRecord = {
      topic: this.topic,
      key,
      value: new TextEncoder().encode(JSON.stringify(value)),
      partition: 0,
    };
    try {
      await this.log.append([record]);
    } catch (cause) {
      const code = isPlatformError(cause) ? cause.code : ErrorCodes.INFRA_UNAVAILABLE;
      throw new PlatformError(code, `could not write to ${this.topic}`, { cause });
    }
  }

  private serialized<T>(run: () => Promise<T>): Promise<T> {
    const next = this.writes.then(run, run);
    this.writes = next.catch(() => undefined);
    return next;
  }
}

/** the first record of a version wins; a later one with another fingerprint lost a race */
function addVersion<T extends { version: number; fingerprint: string }>(
  map: Map<string, T[]>,
  entry: T & { name: string },
): void {
  const versions = map.get(entry.name) ?? [];
  if (versions.some((v) => v.version === entry.version)) return;
  versions.push(entry);
  versions.sort((a, b) => a.version - b.version);
  map.set(entry.name, versions);
}

function matches(summary: ViewSummary, criteria: ViewSearch): boolean {
  if (criteria.owner && summary.owner !== criteria.owner) return false;
  if (criteria.entity && summary.entity !== criteria.entity) return false;
  if (criteria.tag) {
    const [key, value] = criteria.tag.split("=", 2) as [string, string | undefined];
    if (!(key in summary.tags) || (value !== undefined && summary.tags[key] !== value)) return false;
  }
  if (criteria.q) {
    const text = [
      summary.name,
      summary.description,
      summary.owner,
      summary.entity ?? "",
      ...Object.entries(summary.tags).flat(),
      ...summary.features.map((f) => f.name),
    ]
      .join(" ")
      .toLowerCase();
    for (const word of criteria.q.toLowerCase().split(/\s+/).filter(Boolean))
      if (!text.includes(word)) return false;
  }
  return true;
}

function clip(text: string): string {
  return text.length > 64 ? `${text.slice(0, 64)}...` : text;
}
