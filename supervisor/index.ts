/** The actor runtime's public face. Actor kinds import types from `./actor.ts` only. */
export type * from "./actor.ts";
export {
  type ActorSystem,
  type ActorSystemOptions,
  createActorSystem,
  DEFAULT_ROOT_SUPERVISION,
} from "./actor-system.ts";
export { EventStream, type SystemEventListener } from "./event-stream.ts";
export {
  InMemorySnapshotStore,
  SerializedSnapshotStore,
  type SnapshotStore,
} from "./snapshot-store.ts";
export { DEFAULT_ENTITY_SUPERVISION } from "./supervision/kind-supervisor.ts";
