export {
  ChangelogSnapshotStore,
  type ChangelogSnapshotStoreOptions,
} from "./changelog-snapshot-store.ts";
export { ChangelogStore, type ChangelogStoreOptions } from "./changelog-store.ts";
export {
  InMemoryBacking,
  InMemoryStateStore,
  type InMemoryStateStoreOptions,
} from "./in-memory-state-store.ts";
export { jsonStateCodec } from "./state-codec.ts";
export type * from "./state-store.ts";
