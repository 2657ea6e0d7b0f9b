import {
  fingerprintOf,
  RECORD_VERSION,
  type RegisteredView,
} from "../../features/registry/registry-records.ts";
import {
  defineFeatureView,
  type FeatureViewDefinition,
  type FeatureViewInput,
} from "../../features/views/feature-view.ts";
import { DeltaTable } from "../../lake/delta/delta-table.ts";
import type { DeltaField } from "../../lake/delta/schema.ts";
import type { LakeTable } from "../../lake/tables/lake-table.ts";

/** A small gold-like table for feature store tests: entity, event time, created time, values. */
export const TEST_TABLE_SCHEMA: DeltaField[] = [
  { name: "entity", type: "string", nullable: false, metadata: {} },
  { name: "ts", type: "timestamp", nullable: false, metadata: {} },
  { name: "created", type: "timestamp", nullable: true, metadata: {} },
  { name: "kind", type: "string", nullable: true, metadata: {} },
  { name: "value", type: "double", nullable: true, metadata: {} },
  { name: "count", type: "long", nullable: true, metadata: {} },
];

export const TEST_LAKE_TABLE: LakeTable = {
  name: "test_features",
  layer: "gold",
  description: "feature store test rows",
  topics: [],
  schema: TEST_TABLE_SCHEMA,
  partitionColumns: [],
};

export interface TestRow {
  entity: string;
  ts: number;
  created?: number | null;
  kind?: string;
  value?: number | null;
  count?: number | null;
}

export async function testTable(dir: string, rows: readonly TestRow[]): Promise<DeltaTable> {
  const table = await DeltaTable.create(dir, { name: "test_features", schema: TEST_TABLE_SCHEMA });
  if (rows.length > 0)
    await table.append(rows.map((r) => ({ kind: "x", created: r.ts, value: null, count: null, ...r })));
  return table;
}

export function testView(overrides: Partial<FeatureViewInput> = {}): FeatureViewDefinition {
  return defineFeatureView({
    name: "test_view",
    entity: "entity_id",
    owner: "tests",
    ttlMs: 150_000,
    source: {
      table: "test_features",
      entityColumn: "entity",
      timestampColumn: "ts",
      createdColumn: "created",
    },
    features: [
      { name: "value", type: "double" },
      { name: "count", type: "long" },
    ],
    ...overrides,
  });
}

export function registered(definition: FeatureViewDefinition, version = 1): RegisteredView {
  return {
    recordVersion: RECORD_VERSION,
    kind: "view",
    name: definition.name,
    version,
    fingerprint: fingerprintOf(definition),
    registeredAt: 0,
    definition,
    lineage: { table: definition.source.table, tableVersion: null },
  };
}
