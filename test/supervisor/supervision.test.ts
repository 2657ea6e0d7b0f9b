import { afterEach, describe, expect, test } from "bun:test";
import type { ActorRef, Props, RestartType, SupervisionStrategy } from "../../supervisor/actor.ts";
import { type ActorSystem, createActorSystem } from "../../supervisor/actor-system.ts";
import { recordEvents, supervisionEvents } from "./harness.ts";

type Command = "fail" | "exit" | "ping";

let system: ActorSystem | undefined;
afterEach(async () => {
  await system?.stop();
  system = undefined;
});

/** a child that counts its incarnations and fails or exits on command */
function childProps(starts: Map<string, number>, pings: string[]): Props<Command, { incarnation: number }> {
  return {
    kind: "child",
    initialState: (key) => {
      const incarnation = (starts.get(key) ?? 0) + 1;
      starts.set(key, incarnation);
      return { incarnation };
    },
    receive(ctx, command) {
      if (command === "fail") throw new Error(`${ctx.key} failed on purpose`);
      if (command === "exit") ctx.stop();
      if (command === "ping") pings.push(ctx.key);
    },
  };
}

type Exit = "failure" | "normal";

/** which of a, b, c restart when b terminates: OTP's table */
function expectedRestarts(strategy: SupervisionStrategy, restart: RestartType, exit: Exit): string[] {
  const restarted = restart === "permanent" || (restart === "transient" && exit === "failure");
  if (!restarted) return [];
  if (strategy === "one_for_one") return ["b"];
  if (strategy === "one_for_all") return ["a", "b", "c"];
  return ["b", "c"];
}

const strategiesUnderTest: SupervisionStrategy[] = ["one_for_one", "one_for_all", "rest_for_one"];
const restartTypes: RestartType[] = ["permanent", "transient", "temporary"];
const exits: Exit[] = ["failure", "normal"];
const table = strategiesUnderTest.flatMap((strategy) =>
  restartTypes.flatMap((restart) => exits.map((exit) => [strategy, restart, exit] as const)),
);

describe("supervision follows OTP for every strategy, restart type and exit", () => {
  test.each(table)("%s with a %s child b after a %s exit", async (strategy, restart, exit) => {
    system = createActorSystem({ rootSupervision: { strategy, intensity: 10, periodMs: 60_000 } });
    const events = recordEvents(system);
    const starts = new Map<string, number>();
    const pings: string[] = [];
    const props = childProps(starts, pings);
    const refs: Record<string, ActorRef<Command>> = {
      a: system.spawn(props, "a"),
      b: system.spawn(props, "b", { restart }),
      c: system.spawn(props, "c"),
    };
    await system.drain();
    refs.b!.tell(exit === "failure" ? "fail" : "exit");
    await system.drain();

    const restarted = expectedRestarts(strategy, restart, exit);
    for (const key of ["a", "b", "c"]) {
      expect({ key, incarnations: starts.get(key) }).toEqual({
        key,
        incarnations: restarted.includes(key) ? 2 : 1,
      });
    }
    const decisions = supervisionEvents(events).map((e) => `${e.decision}:${e.child}`);
    if (restarted.length === 0) {
      expect(decisions).toEqual(["stop:child/b"]);
    } else {
      expect(decisions).toEqual(restarted.map((key) => `restart:child/${key}`));
      for (const event of supervisionEvents(events)) expect(event.strategy).toBe(strategy);
    }
    const bAlive = restarted.includes("b");
    expect(refs.b!.tell("ping")).toBe(bAlive);
    expect(refs.a!.tell("ping")).toBe(true);
    await system.drain();
    expect(pings.sort()).toEqual(bAlive ? ["a", "b"] : ["a"]);
  });
});

describe("restart intensity", () => {
  test("a supervisor past its intensity escalates to its parent, which restarts it", async () => {
    system = createActorSystem({
      rootSupervision: { strategy: "one_for_one", intensity: 5, periodMs: 60_000 },
    });
    const events = recordEvents(system);
    const starts = new Map<string, number>();
    const child = childProps(starts, []);
    let parentStarts = 0;
    let worker: ActorRef<Command> | undefined;
    system.spawn<"go", null>(
      {
        kind: "parent",
        supervision: { strategy: "one_for_one", intensity: 2, periodMs: 60_000 },
        initialState: () => {
          parentStarts++;
          return null;
        },
        onSignal(ctx, signal) {
          if (signal.type === "started" || signal.type === "restarted") worker = ctx.spawnChild(child, "w");
        },
        receive() {},
      },
      "p",
    );
    await system.drain();
    for (let i = 0; i < 3; i++) {
      worker!.tell("fail");
      await system.drain();
    }
    const decisions = supervisionEvents(events).map((e) => `${e.supervisor} ${e.decision} ${e.child}`);
    expect(decisions).toEqual([
      "parent/p restart child/w",
      "parent/p restart child/w",
      "parent/p escalate child/w",
      "root restart parent/p",
    ]);
    expect(parentStarts).toBe(2);
    // the restarted parent spawned a fresh worker
    expect(starts.get("w")).toBe(4);
    expect(worker!.tell("ping")).toBe(true);
  });

  test("at the root, exceeding the intensity publishes the escalation and stops the tree", async () => {
    system = createActorSystem({
      rootSupervision: { strategy: "one_for_one", intensity: 1, periodMs: 60_000 },
    });
    const events = recordEvents(system);
    const props = childProps(new Map(), []);
    const a = system.spawn(props, "a");
    const b = system.spawn(props, "b");
    a.tell("fail");
    await system.drain();
    a.tell("fail");
    await system.drain();
    const decisions = supervisionEvents(events).map((e) => `${e.supervisor} ${e.decision} ${e.child}`);
    expect(decisions).toEqual(["root restart child/a", "root escalate child/a"]);
    expect(system.tree().status).toBe("stopped");
    expect(b.tell("ping")).toBe(false);
    expect(events.some((e) => e.type === "actor-stopped" && e.address === "child/b")).toBe(true);
  });

  test("restarts outside the period do not count toward the intensity", async () => {
    let time = 0;
    system = createActorSystem({
      clock: () => time,
      rootSupervision: { strategy: "one_for_one", intensity: 1, periodMs: 1_000 },
    });
    const events = recordEvents(system);
    const a = system.spawn(childProps(new Map(), []), "a");
    for (let i = 0; i < 4; i++) {
      a.tell("fail");
      await system.drain();
      time += 2_000;
    }
    expect(supervisionEvents(events).map((e) => e.decision)).toEqual([
      "restart",
      "restart",
      "restart",
      "restart",
    ]);
  });
});

describe("back-off between restarts", () => {
  test("delays double per recent restart up to maxMs, and the restart waits that long", async () => {
    system = createActorSystem({
      random: () => 1,
      rootSupervision: {
        strategy: "one_for_one",
        intensity: 10,
        periodMs: 60_000,
        backoff: { minMs: 5, maxMs: 20, jitter: 0.5 },
      },
    });
    const events = recordEvents(system);
    const starts = new Map<string, number>();
    const a = system.spawn(childProps(starts, []), "a");
    for (let i = 0; i < 4; i++) {
      a.tell("fail");
      const before = performance.now();
      await system.drain();
      if (i === 3) expect(performance.now() - before).toBeGreaterThanOrEqual(15);
    }
    expect(supervisionEvents(events).map((e) => e.delayMs)).toEqual([5, 10, 20, 20]);
    expect(starts.get("a")).toBe(5);
  });

  test("messages sent during the back-off wait and are handled by the new incarnation", async () => {
    system = createActorSystem({
      rootSupervision: {
        strategy: "one_for_one",
        intensity: 10,
        periodMs: 60_000,
        backoff: { minMs: 20, maxMs: 20, jitter: 0 },
      },
    });
    const pings: string[] = [];
    const a = system.spawn(childProps(new Map(), pings), "a");
    a.tell("fail");
    a.tell("ping");
    a.tell("ping");
    await system.drain();
    expect(pings).toEqual(["a", "a"]);
    expect(system.tree().children[0]!.status).toBe("running");
  });
});
