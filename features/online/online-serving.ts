import { ErrorCodes, PlatformError } from "../../messages/errors.ts";
import type { FeatureRegistry } from "../registry/feature-registry.ts";
import type { RegisteredView } from "../registry/registry-records.ts";
import type { FeatureValue } from "../views/feature-view.ts";
import { type FeatureRow, type OnDemandView, requestValues } from "../views/on-demand-view.ts";
import type { OnlineStore } from "./online-store.ts";

/**
 * Online serving (Feast's get_online_features): the latest values of one view's features for
 * one or many entities, each with a status as Feast gives them:
 *
 *   PRESENT          the value is stored and within the view's TTL
 *   NOT_FOUND        the store has nothing for the entity
 *   OUTSIDE_MAX_AGE  the stored value is older than the TTL: not served (null)
 *
 * An on-demand view reads its source views for the entities, then computes its features from
 * them and the request's data with the transform this node's code holds, which must be the one
 * registered (its fingerprint): a node with other code refuses rather than serve other numbers.
 */
export const MAX_ENTITIES = 1000;
const MAX_ENTITY_CHARS = 256;

export type FeatureStatus = "PRESENT" | "NOT_FOUND" | "OUTSIDE_MAX_AGE";

export interface OnlineRequest {
  /** a view or on-demand view name */
  readonly view: string;
  readonly version?: number;
  readonly entities: readonly string[];
  /** a subset of the view's features (default all) */
  readonly features?: readonly string[];
  /** on-demand views: the request's data */
  readonly request?: Readonly<Record<string, unknown>>;
  readonly now?: number;
}

export interface OnlineResult {
  readonly view: string;
  readonly version: number;
  readonly entity: string;
  readonly features: readonly string[];
  readonly results: readonly {
    readonly entity: string;
    readonly status: FeatureStatus;
    readonly eventTime: number | null;
    readonly values: Readonly<Record<string, FeatureValue | null>>;
  }[];
}

export class OnlineFeatureServer {
  constructor(
    private readonly registry: FeatureRegistry,
    private readonly store: OnlineStore,
    private readonly onDemandCode: ReadonlyMap<string, OnDemandView> = new Map(),
  ) {}

  async read(request: OnlineRequest): Promise<OnlineResult> {
    checkEntities(request.entities);
    if (this.registry.isOnDemand(request.view)) return this.readOnDemand(request);
    const view = this.registry.view(request.view, request.version ?? "latest");
    return this.readView(view, request.entities, request.features, request.now ?? Date.now());
  }

  private async readView(
    view: RegisteredView,
    entities: readonly string[],
    wanted: readonly string[] | undefined,
    now: number,
  ): Promise<OnlineResult> {
    const names = view.definition.features.map((f) => f.name);
    const features = wanted ?? names;
    const unknown = features.filter((f) => !names.includes(f));
    if (unknown.length > 0)
      throw new PlatformError(
        ErrorCodes.FEATURE_MISSING,
        `view ${view.name} v${view.version} has no feature ${unknown.map((f) => f.slice(0, 64)).join(", ")} (features: ${names.join(", ")})`,
      );
    const stored = await this.store.read({ name: view.name, version: view.version }, entities, now);
    const ttl = view.definition.ttlMs;
    return {
      view: view.name,
      version: view.version,
      entity: view.definition.entity,
      features,
      results: entities.map((entity, i) => {
        const entry = stored[i];
        const nulls = Object.fromEntries(features.map((f) => [f, null]));
        if (!entry) return { entity, status: "NOT_FOUND", eventTime: null, values: nulls };
        if (entry.eventTime < now - ttl)
          return { entity, status: "OUTSIDE_MAX_AGE", eventTime: entry.eventTime, values: nulls };
        const values = Object.fromEntries(features.map((f) => [f, entry.values[f] ?? null]));
        return { entity, status: "PRESENT", eventTime: entry.eventTime, values };
      }),
    };
  }

  private async readOnDemand(request: OnlineRequest): Promise<OnlineResult> {
    const registered = this.registry.onDemandView(request.view, request.version ?? "latest");
    const code = this.onDemandCode.get(registered.name);
    if (!code || code.description.transformFingerprint !== registered.definition.transformFingerprint)
      throw new PlatformError(
        ErrorCodes.FEATURE_VIEW_INCOMPATIBLE,
        `on-demand view ${registered.name} v${registered.version} has a transform this node's code does not hold`,
      );
    const definition = registered.definition;
    const names = definition.features.map((f) => f.name);
    const unknown = (request.features ?? []).filter((f) => !names.includes(f));
    if (unknown.length > 0)
      throw new PlatformError(
        ErrorCodes.FEATURE_MISSING,
        `on-demand view ${definition.name} has no feature ${unknown.join(", ")}`,
      );
    const requestRow = requestValues(definition, request.request ?? {});
    const now = request.now ?? Date.now();
    const sources = await Promise.all(
      definition.sources.map((s) => this.readView(this.registry.view(s), request.entities, undefined, now)),
    );
    const features = request.features ?? names;
    return {
      view: registered.name,
      version: registered.version,
      entity: sources[0]?.entity ?? "",
      features,
      results: request.entities.map((entity, i) => {
        const inputs: Record<string, FeatureValue | null> = {};
        let status: FeatureStatus = "PRESENT";
        let eventTime: number | null = null;
        for (const source of sources) {
          const result = source.results[i]!;
          Object.assign(inputs, result.values);
          if (result.status !== "PRESENT") status = result.status;
          if (result.eventTime !== null) eventTime = Math.max(eventTime ?? 0, result.eventTime);
        }
        const computed: FeatureRow = code.transform(inputs, requestRow);
        const values = Object.fromEntries(features.map((f) => [f, computed[f] ?? null]));
        return { entity, status, eventTime, values };
      }),
    };
  }
}

function checkEntities(entities: readonly string[]): void {
  if (entities.length === 0) throw new PlatformError(ErrorCodes.BAD_REQUEST, "name at least one entity");
  if (entities.length > MAX_ENTITIES)
    throw new PlatformError(
      ErrorCodes.OUT_OF_RANGE,
      `at most ${MAX_ENTITIES} entities a request, got ${entities.length}`,
    );
  for (const entity of entities)
    if (entity.length === 0 || entity.length > MAX_ENTITY_CHARS)
      throw new PlatformError(ErrorCodes.BAD_REQUEST, `an entity key is 1-${MAX_ENTITY_CHARS} characters`);
}
