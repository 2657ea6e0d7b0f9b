import type { trainStartupModel } from "../actors/model-shard/traffic-model.ts";
import { createApp } from "../api/app.ts";
import { DEFAULT_BODY_LIMIT_BYTES } from "../api/body-limits.ts";
import { dashboardData, dashboardPages } from "../api/dashboard/dashboard-routes.ts";
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
import type { Housekeeping } from "./housekeeping.ts";
import type { NodeContext } from "./node-context.ts";
import type { NodeTimeSeries } from "./timeseries.ts";

/** The node's HTTP API: the read model, metrics, health, supervision, ownership, the schema registry. */
export function nodeApp(
  node: NodeContext,
  parts: {
    readonly health: { readonly checks: readonly HealthCheck[] };
    readonly registry: SchemaRegistry;
    readonly membership: Membership;
    readonly hosts: PartitionHosts;
    readonly main: ActorSystem;
    readonly model: ReturnType<typeof trainStartupModel>;
    readonly housekeeping: Housekeeping;
    readonly sensorRegistry: ReferenceTable<SensorRegistryRecord>;
    readonly timeseries: NodeTimeSeries;
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
  const nodeInfo = () => ({
    applicationId: deps.config.applicationId,
    workers: deps.hosts.workers,
    modelVersion: deps.model.version,
  });
  const dashboard = {
    ...{ view: deps.view, metrics: deps.metrics, health: deps.health.checks, nodeInfo },
    sensorPlace: (id: string) => {
      const row = deps.sensorRegistry.get(id);
      return row && { district: row.district, lat: row.location.lat, lon: row.location.lon };
    },
  };
  return createApp({
    view: deps.view,
    metrics: deps.metrics,
    health: deps.health.checks,
    supervisionTree: () => ({ main: deps.main.tree(), workers: deps.housekeeping.workerTrees() }),
    nodeInfo,
    mounts: [
      { prefix: "/schema-registry", app: schemaRegistryRoutes(deps.registry) },
      { prefix: "/dashboard", app: dashboardPages(), maxBodyBytes: DEFAULT_BODY_LIMIT_BYTES },
      { prefix: "/api/dashboard", app: dashboardData(dashboard), maxBodyBytes: DEFAULT_BODY_LIMIT_BYTES },
      { prefix: "/api/timeseries", app: timeSeriesRoutes(parts.timeseries) },
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
