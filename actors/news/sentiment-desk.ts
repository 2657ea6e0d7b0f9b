import type { z } from "zod";
import { ErrorCodes, PlatformError } from "../../messages/errors.ts";
import type { Props } from "../../supervisor/actor.ts";
import {
  copySentiment,
  freshSentiment,
  type RollingSentiment,
  rememberArticle,
} from "./rolling-sentiment.ts";

/** what every desk answers besides its items: the engine's checkpoint, eviction and wake-up */
export type DeskControl =
  | { readonly type: "checkpoint" }
  | { readonly type: "evict" }
  | { readonly type: "wake" };

export interface SentimentDeskSpec<M extends { readonly offset: number }> {
  readonly kind: string;
  readonly onState: (key: string, state: RollingSentiment) => void;
  readonly passivateAfterMs: number;
  /** how many article ids a desk remembers for de-duplication; default 1,000 */
  readonly rememberIds?: number;
  /** the article an item is about: one article counts once per desk */
  readonly articleIdOf: (item: M) => string;
  /** the desk's own work on a new item; the state is already past its offset and its id */
  readonly take: (key: string, state: RollingSentiment, item: M) => void | Promise<void>;
}

/**
 * What the place desks and the symbol desks share: one owner per key with its rolling sentiment
 * as plain data for the changelog (saved at each checkpoint, restored at start or after
 * passivation), a bounded mailbox that pushes back, an item replayed after a crash skipped by its
 * offset and the same article reaching the desk again skipped by its id. Each kind adds only what
 * it does with a new item (`take`).
 */
export function sentimentDeskProps<M extends { readonly type: string; readonly offset: number }>(
  spec: SentimentDeskSpec<M>,
): Props<M | DeskControl, RollingSentiment> {
  const remember = spec.rememberIds ?? 1_000;
  return {
    kind: spec.kind,
    mailbox: { capacity: 10_000, overflow: "backpressure" },
    passivateAfterMs: spec.passivateAfterMs,
    toSnapshot: copySentiment,
    initialState: (_key, snapshot) => (snapshot ? copySentiment(snapshot) : freshSentiment()),
    receive(ctx, message) {
      const state = ctx.state;
      switch (message.type) {
        case "checkpoint":
          spec.onState(ctx.key, copySentiment(state));
          return;
        case "evict":
          ctx.stop();
          return;
        case "wake":
          return;
      }
      const item = message as M;
      if (item.offset <= state.lastOffset) return; // replayed from the topic
      state.lastOffset = item.offset;
      if (!rememberArticle(state, spec.articleIdOf(item), remember)) return; // the same article again
      return spec.take(ctx.key, state, item);
    },
  };
}

/** a record of a desk's input topic as what the schema says, or a SCHEMA_VIOLATION naming the first issue */
export function parseDeskInput<T>(schema: z.ZodType<T>, what: string, value: unknown): T {
  const parsed = schema.safeParse(value);
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0];
  throw new PlatformError(
    ErrorCodes.SCHEMA_VIOLATION,
    `not ${what}: ${issue?.path.join(".")}: ${issue?.message}`,
  );
}
