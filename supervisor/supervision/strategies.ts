import type { SupervisionStrategy } from "../actor.ts";
import { oneForAll } from "./strategy-one-for-all.ts";
import { oneForOne } from "./strategy-one-for-one.ts";
import { restForOne } from "./strategy-rest-for-one.ts";

/** Which children a strategy restarts when the child at index `terminated` must be restarted. */
export type AffectedChildren = <C>(children: readonly C[], terminated: number) => readonly C[];

export const strategies: Readonly<Record<SupervisionStrategy, AffectedChildren>> = {
  one_for_one: oneForOne,
  one_for_all: oneForAll,
  rest_for_one: restForOne,
};
