import type { SystemEvent } from "../../supervisor/actor.ts";
import type { ActorSystem } from "../../supervisor/actor-system.ts";

/** Collects every event a system publishes, for assertions. */
export function recordEvents(system: ActorSystem): SystemEvent[] {
  const events: SystemEvent[] = [];
  system.events.subscribe((event) => events.push(event));
  return events;
}

export type SupervisionEvent = Extract<SystemEvent, { type: "supervision" }>;

export function supervisionEvents(events: readonly SystemEvent[]): SupervisionEvent[] {
  return events.filter((event): event is SupervisionEvent => event.type === "supervision");
}

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** polls `condition` until it holds or `timeoutMs` passes */
export async function eventually(condition: () => boolean, timeoutMs = 2_000): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  while (!condition()) {
    if (performance.now() > deadline) throw new Error("condition not met in time");
    await sleep(2);
  }
}

/** a clock tests move by hand */
export function manualClock(start = 1_000_000): { now: () => number; advance: (ms: number) => void } {
  let time = start;
  return {
    now: () => time,
    advance: (ms) => {
      time += ms;
    },
  };
}
