export { ChangelogStore, type ChangelogStoreOptions } from "./changelog-store.ts";
export {
  InMemoryBacking,
  InMemoryStateStore,
  type InMemoryStateStoreOptions,
} from "./in-memory-state-store.ts";
export { jsonStateCodec, storedBytesCodec } from "./state-codec.ts";
export type * from "./state-store.ts";
