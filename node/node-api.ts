import type { trainStartupModel } from "../actors/model-shard/traffic-model.ts";
import { createApp } from "../api/app.ts";
import type { HealthCheck } from "../api/health.ts";
import { schemaRegistryRoutes } from "../api/schema-registry/routes.ts";
import type { Membership } from "../engine/membership.ts";
import type { PartitionHosts } from "../engine/partition-hosts.ts";
import { partitionFor } from "../messages/murmur2.ts";
import type { SchemaRegistry } from "../registries/schema-registry.ts";
import type { ActorSystem } from "../supervisor/index.ts";
import type { Housekeeping } from "./housekeeping.ts";
import type { NodeContext } from "./node-context.ts";

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
  return createApp({
    view: deps.view,
    metrics: deps.metrics,
    health: deps.health.checks,
    supervisionTree: () => ({ main: deps.main.tree(), workers: deps.housekeeping.workerTrees() }),
    nodeInfo: () => ({
      applicationId: deps.config.applicationId,
      workers: deps.hosts.workers,
      modelVersion: deps.model.version,
    }),
    mounts: [{ prefix: "/schema-registry", app: schemaRegistryRoutes(deps.registry) }],
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
