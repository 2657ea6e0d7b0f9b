import { type AlertRoutesDeps, alertRoutes } from "../api/alerts/routes.ts";
import { createApp } from "../api/app.ts";
import { DEFAULT_BODY_LIMIT_BYTES } from "../api/body-limits.ts";
import { dashboardData, dashboardPages } from "../api/dashboard/dashboard-routes.ts";
import { erasureRoutes } from "../api/erasure/routes.ts";
import { ApiKeyStore } from "../api/gateway/api-key-store.ts";
import { AuditLog } from "../api/gateway/audit-log.ts";
import { Gateway } from "../api/gateway/gateway.ts";
import { jwtVerifier } from "../api/gateway/jwt-verifier.ts";
import { parseOrigins } from "../api/gateway/origin-policy.ts";
import type { HealthCheck } from "../api/health.ts";
import { schemaRegistryRoutes } from "../api/schema-registry/routes.ts";
import { timeSeriesRoutes } from "../api/timeseries/routes.ts";
import type { Membership } from "../engine/membership.ts";
import type { PartitionHosts } from "../engine/partition-hosts.ts";
import { partitionFor } from "../messages/murmur2.ts";
import type { SensorRegistryRecord } from "../messages/reference-data.ts";
import type { SchemaRegistry } from "../registries/schema-registry.ts";
import type { ReferenceTable } from "../stream/enrichment/reference-table.ts";
import type { ActorSystem } from "../supervisor/index.ts";
import { nodeErasers } from "./erasure.ts";
import type { NodeFeatures } from "./features.ts";
import type { Housekeeping } from "./housekeeping.ts";
import type { NodeLake } from "./lake.ts";
import type { NodeMarket } from "./market.ts";
import { type NodeModels, TRAFFIC_FORECAST } from "./models.ts";
import type { NodeNews } from "./news.ts";
import type { NodeContext } from "./node-context.ts";
import type { NodeTimeSeries } from "./timeseries.ts";

/**
 * The node's access control: API keys and the audit trail on the log (shared by every node of the
 * application), JWT verification when a JWKS is configured, and the gateway over them.
 */
export interface NodeAccess {
  readonly gateway: Gateway;
  readonly keys: ApiKeyStore;
  readonly audit: AuditLog;
  stop(): Promise<void>;
}

export async function openNodeAccess({ config, log, failures }: NodeContext): Promise<NodeAccess> {
  const keys = await ApiKeyStore.open(log, { onError: failures.logUnavailable });
  const audit = await AuditLog.open(log);
  const jwks = config.jwtJwksUrl
    ? { jwksUrl: config.jwtJwksUrl }
    : config.jwtJwksFile
      ? { jwksFile: config.jwtJwksFile }
      : undefined;
  const origins = parseOrigins(config.corsOrigins ?? "");
  const gateway = new Gateway({
    keys,
    audit,
    ...(config.adminApiKey ? { bootstrapKey: config.adminApiKey } : {}),
    // loadNodeConfig refuses a JWKS without its issuer and audience
    ...(jwks
      ? { jwt: jwtVerifier({ ...jwks, issuer: config.jwtIssuer ?? "", audience: config.jwtAudience ?? "" }) }
      : {}),
    corsOrigins: origins instanceof Error ? [] : origins,
    rateLimit: { perSecond: config.rateLimitPerSecond, burst: config.rateLimitBurst },
    tls: config.tlsCertFile !== undefined,
  });
  return { gateway, keys, audit, stop: () => keys.close() };
}

/** The node's HTTP API: the read model, metrics, health, supervision, ownership, the schema registry. */
export function nodeApp(
  node: NodeContext,
  parts: {
    readonly access: NodeAccess;
    readonly health: { readonly checks: readonly HealthCheck[] };
    readonly registry: SchemaRegistry;
    readonly membership: Membership;
    readonly hosts: PartitionHosts;
    readonly main: ActorSystem;
    readonly housekeeping: Housekeeping;
    readonly sensorRegistry: ReferenceTable<SensorRegistryRecord>;
    readonly timeseries: NodeTimeSeries;
    readonly lake: NodeLake | undefined;
    readonly features: NodeFeatures | undefined;
    readonly models: NodeModels | undefined;
    readonly alerts: AlertRoutesDeps;
    readonly news: NodeNews | undefined;
    readonly market: NodeMarket | undefined;
  },
) {
  const deps = {
    ...parts,
    config: node.config,
    view: node.view,
    metrics: node.metrics,
    partitions: node.partitions,
  };
  const { membership, partitions } = deps;
  const checks = [
    ...deps.health.checks,
    ...(parts.news ? [parts.news.health] : []),
    ...(parts.market ? [parts.market.health] : []),
    ...(parts.models?.health ?? []),
  ];
  const nodeInfo = () => ({
    applicationId: deps.config.applicationId,
    workers: deps.hosts.workers,
    // the traffic forecast's champion here; null while it has none (first start, MODELS=off)
    modelVersion: parts.models?.championOf(TRAFFIC_FORECAST) ?? null,
  });
  const dashboard = {
    ...{ view: deps.view, metrics: deps.metrics, health: checks, nodeInfo },
    sensorPlace: (id: string) => {
      const row = deps.sensorRegistry.get(id);
      return row && { district: row.district, lat: row.location.lat, lon: row.location.lon };
    },
  };
  return createApp({
    gateway: parts.access.gateway,
    keys: parts.access.keys,
    audit: parts.access.audit,
    view: deps.view,
    metrics: deps.metrics,
    health: checks,
    supervisionTree: () => ({ main: deps.main.tree(), workers: deps.housekeeping.workerTrees() }),
    nodeInfo,
    mounts: [
      { prefix: "/schema-registry", app: schemaRegistryRoutes(deps.registry) },
      { prefix: "/dashboard", app: dashboardPages(), maxBodyBytes: DEFAULT_BODY_LIMIT_BYTES },
      { prefix: "/api/dashboard", app: dashboardData(dashboard), maxBodyBytes: DEFAULT_BODY_LIMIT_BYTES },
      { prefix: "/api/timeseries", app: timeSeriesRoutes(parts.timeseries) },
      // SQL text up to 100,000 characters, in JSON
      ...(parts.lake ? [{ prefix: "/api/lake", app: parts.lake.routes, maxBodyBytes: 256 * 1024 }] : []),
      ...(parts.features
        ? [{ prefix: "/api/features", app: parts.features.routes, maxBodyBytes: 256 * 1024 }]
        : []),
      // a batch of up to 10,000 rows of named features
      ...(parts.models
        ? [{ prefix: "/api/models", app: parts.models.routes, maxBodyBytes: 8 * 1024 * 1024 }]
        : []),
      { prefix: "/api/alerts", app: alertRoutes(parts.alerts) },
      ...(parts.news ? [{ prefix: "/api/news", app: parts.news.routes }] : []),
      ...(parts.market ? [{ prefix: "/api/markets", app: parts.market.routes }] : []),
      {
        prefix: "/api/admin/erasures",
        app: erasureRoutes({ erasers: () => nodeErasers(node, parts), audit: parts.access.audit }),
        maxBodyBytes: 4096,
      },
    ],
    ownership: {
      owners: () =>
        Array.from({ length: partitions }, (_, partition) => ({
          partition,
          owner: membership.ownerOf(partition),
        })),
      ownerOfKey: (key) =>
        membership.ownerOfKey(key) ?? {
          partition: partitionFor(key, partitions),
          owner: undefined,
          local: true,
        },
    },
  });
}
