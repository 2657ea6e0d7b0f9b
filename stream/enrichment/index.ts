/**
 * Stream-table joins with reference data kept in compacted topics (Kafka Streams' KTable and
 * GlobalKTable joins) as a library that actors call: a ReferenceTable materialised from its
 * topic, fed by a restore-then-follow loop, and an enricher that joins records with it.
 */

export {
  type ApplyOutcome,
  ReferenceTable,
  type ReferenceTableOptions,
  type ReferenceTableStats,
  type TableListener,
} from "./reference-table.ts";
export {
  createEnricher,
  type Enricher,
  type EnricherOptions,
  type EnricherStats,
  type HoldOptions,
  type JoinOutcome,
  type MissingPolicy,
  withEnrichment,
} from "./stream-table-join.ts";
export type { RowVersion } from "./version-history.ts";
