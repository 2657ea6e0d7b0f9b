import type { OnlineStore } from "../features/online/online-store.ts";
import { ErrorCodes, PlatformError } from "../messages/errors.ts";
import type { EntityEraser, EntityKind, ErasureOutcome } from "./entity-eraser.ts";

/**
 * The online feature store's part of a deletion request: the entity's entries in every version of
 * every view whose join key names its kind (a sensor's views are keyed by `sensor_id`). Views of
 * other entities (districts, symbols) hold aggregates, not the entity's own values. The offline
 * store is the lake, erased by the lake's eraser; the materializer's watermarks hold no entity.
 */
export const JOIN_KEY_OF: Readonly<Record<EntityKind, string>> = {
  sensor: "sensor_id",
  user: "user_id",
};

export function createOnlineEntityEraser(
  online: OnlineStore,
  /** the registry's views (name and join key), read when a request runs */
  views: () => readonly { readonly name: string; readonly entity: string | undefined }[],
): EntityEraser {
  const store = `online-features:${online.kind}`;
  return {
    store,
    async erase(request) {
      const key = JOIN_KEY_OF[request.entity.kind];
      const keyed = views().filter((v) => v.entity === key);
      if (keyed.length === 0)
        return [{ store, status: "not-applicable", items: 0, detail: `no view is keyed by ${key}` }];
      const outcomes: ErasureOutcome[] = [];
      for (const view of keyed) {
        try {
          const deleted = await online.deleteEntity(view.name, request.entity.id);
          outcomes.push(
            deleted === 0
              ? { store, status: "not-found", items: 0, detail: view.name }
              : {
                  store,
                  status: "erased",
                  items: deleted,
                  detail: `${view.name}: ${deleted} entries deleted`,
                },
          );
        } catch (cause) {
          const error = new PlatformError(
            ErrorCodes.ERASURE_INCOMPLETE,
            `erasing from view ${view.name} failed`,
            {
              cause,
            },
          );
          outcomes.push({ store, status: "failed", items: 0, detail: error.message });
        }
      }
      return outcomes;
    },
  };
}
