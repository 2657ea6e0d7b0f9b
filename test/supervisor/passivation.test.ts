import { afterEach, describe, expect, test } from "bun:test";
import type { Props } from "../../supervisor/actor.ts";
import { type ActorSystem, createActorSystem } from "../../supervisor/actor-system.ts";
import { InMemorySnapshotStore, type SnapshotStore } from "../../supervisor/snapshot-store.ts";
import { eventually, manualClock, recordEvents, sleep } from "./harness.ts";

let system: ActorSystem | undefined;
afterEach(async () => {
  await system?.stop();
  system = undefined;
});

interface Counter {
  count: number;
}

function counterProps(snapshots: (Counter | undefined)[], signals: string[]): Props<"inc", Counter> {
  return {
    kind: "counter",
    passivateAfterMs: 20,
    initialState: (_key, snapshot) => {
      snapshots.push(snapshot);
      return snapshot ?? { count: 0 };
    },
    onSignal: (_ctx, signal) => void signals.push(signal.type),
    receive(ctx) {
      ctx.state = { count: ctx.state.count + 1 };
    },
  };
}

/** an async store, as a changelog-backed one would be */
class SlowSnapshotStore implements SnapshotStore {
  readonly inner = new InMemorySnapshotStore();
  async save(address: string, state: unknown): Promise<void> {
    await sleep(5);
    this.inner.save(address, state);
  }
  async load(address: string): Promise<unknown> {
    await sleep(5);
    return this.inner.load(address);
  }
  async delete(address: string): Promise<void> {
    this.inner.delete(address);
  }
}

describe("passivation", () => {
  test.each([
    ["in-memory", () => new InMemorySnapshotStore()],
    ["asynchronous", () => new SlowSnapshotStore()],
  ] as const)(
    "an idle entity passivates with a snapshot and comes back from it (%s store)",
    async (_name, store) => {
      const clock = manualClock();
      system = createActorSystem({ clock: clock.now, snapshots: store() });
      const events = recordEvents(system);
      const snapshots: (Counter | undefined)[] = [];
      const signals: string[] = [];
      system.register(counterProps(snapshots, signals));
      const ref = system.ref<"inc">("counter", "c1");
      ref.tell("inc");
      ref.tell("inc");
      await system.drain();
      expect(system.stats().actors).toBe(1);
      clock.advance(100);
      await eventually(() => system!.stats().actors === 0);
      expect(events).toContainEqual(
        expect.objectContaining({ type: "actor-passivated", address: "counter/c1" }),
      );
      expect(signals).toEqual(["started", "passivating"]);
      ref.tell("inc");
      await system.drain();
      expect(snapshots).toEqual([undefined, { count: 2 }]);
      expect(system.stats().actors).toBe(1);
      clock.advance(100);
      await eventually(() => system!.stats().actors === 0);
      ref.tell("inc");
      await system.drain();
      expect(snapshots.at(-1)).toEqual({ count: 3 });
    },
  );

  describe("a timer's messages count as activity unless the timer is quiet", () => {
    const ticking = (keepsAlive: boolean, ticks: { count: number }): Props<"tick", number> => ({
      kind: "ticker",
      passivateAfterMs: 20,
      initialState: () => 0,
      onSignal(ctx, signal) {
        if (signal.type === "started") ctx.startTimer("tick", 2, "tick", { repeat: true, keepsAlive });
      },
      receive() {
        ticks.count++;
      },
    });
    for (const keepsAlive of [true, false])
      test(`keepsAlive ${keepsAlive}: the ticking entity ${keepsAlive ? "stays" : "passivates"}`, async () => {
        const clock = manualClock();
        system = createActorSystem({ clock: clock.now });
        const ticks = { count: 0 };
        system.register(ticking(keepsAlive, ticks));
        system.ref<"tick">("ticker", "t1").tell("tick");
        await system.drain();
        clock.advance(15);
        const seen = ticks.count;
        await eventually(() => ticks.count > seen + 1);
        // 30 ms after its only outside message; a keep-alive tick was handled 15 ms ago
        clock.advance(15);
        await sleep(40);
        expect(system.stats().actors).toBe(keepsAlive ? 1 : 0);
      });
  });

  test("a busy entity is not passivated", async () => {
    const clock = manualClock();
    system = createActorSystem({ clock: clock.now });
    system.register(counterProps([], []));
    const ref = system.ref<"inc">("counter", "c1");
    ref.tell("inc");
    await system.drain();
    await sleep(30);
    expect(system.stats().actors).toBe(1);
  });

  test("a restart starts from fresh state, not from the snapshot", async () => {
    const clock = manualClock();
    const store = new InMemorySnapshotStore();
    system = createActorSystem({ clock: clock.now, snapshots: store });
    const seen: number[] = [];
    system.register<"inc" | "boom", Counter>({
      kind: "counter",
      passivateAfterMs: 20,
      initialState: (_key, snapshot) => snapshot ?? { count: 0 },
      receive(ctx, message) {
        if (message === "boom") throw new Error("boom");
        ctx.state.count++;
        seen.push(ctx.state.count);
      },
    });
    const ref = system.ref<"inc" | "boom">("counter", "c1");
    ref.tell("inc");
    await system.drain();
    clock.advance(100);
    await eventually(() => system!.stats().actors === 0);
    ref.tell("inc");
    ref.tell("boom");
    ref.tell("inc");
    await system.drain();
    expect(seen).toEqual([1, 2, 1]);
  });
});

describe("observation", () => {
  test("tree() summarises a large sharded kind with a count and a sample", async () => {
    system = createActorSystem();
    system.register<number, null>({ kind: "sensor", initialState: () => null, receive() {} });
    for (let i = 0; i < 500; i++) system.ref<number>("sensor", `s${i}`).tell(i);
    await system.drain();
    const tree = system.tree();
    const kind = tree.children.find((child) => child.address === "sensor/*")!;
    expect(kind.count).toBe(500);
    expect(kind.children.length).toBe(20);
    expect(kind.strategy).toBe("one_for_one");
    expect(JSON.parse(JSON.stringify(tree))).toEqual(tree);
    expect(system.stats().byKind.sensor).toEqual({ actors: 500, mailboxDepth: 0 });
  });

  test("a listener that throws does not stop the others, and unsubscribe works", async () => {
    system = createActorSystem();
    const got: string[] = [];
    system.events.subscribe(() => {
      throw new Error("bad listener");
    });
    const unsubscribe = system.events.subscribe((event) => got.push(event.type));
    const original = console.error;
    console.error = () => {};
    try {
      system.events.publish({ type: "custom", topic: "x", payload: 1, at: 0 });
      unsubscribe();
      system.events.publish({ type: "custom", topic: "x", payload: 2, at: 0 });
    } finally {
      console.error = original;
    }
    expect(got).toEqual(["custom"]);
  });
});

describe("spawning and addressing", () => {
  test("spawn refuses a second live actor at the same address", () => {
    system = createActorSystem();
    const props: Props<number, null> = { kind: "solo", initialState: () => null, receive() {} };
    system.spawn(props, "1");
    expect(() => system!.spawn(props, "1")).toThrow("ACTOR_EXISTS");
  });

  test("actors reach each other with ctx.ref, and children show up in the tree under their parent", async () => {
    system = createActorSystem();
    const heard: string[] = [];
    system.register<string, null>({
      kind: "echo",
      initialState: () => null,
      receive: (ctx, text) => void heard.push(`${ctx.key} heard ${text}`),
    });
    system
      .spawn<"go", null>(
        {
          kind: "parent",
          supervision: { strategy: "rest_for_one", intensity: 3, periodMs: 1_000 },
          initialState: () => null,
          receive(ctx) {
            ctx.spawnChild<string, null>({ kind: "kid", initialState: () => null, receive() {} }, "k1");
            ctx.ref<string>("echo", "e1").tell("hello");
          },
        },
        "p",
      )
      .tell("go");
    await system.drain();
    expect(heard).toEqual(["e1 heard hello"]);
    const parent = system.tree().children.find((node) => node.address === "parent/p")!;
    expect(parent.strategy).toBe("rest_for_one");
    expect(parent.children.map((node) => node.address)).toEqual(["kid/k1"]);
    expect(system.ref("kid", "k1").tell("x")).toBe(true);
  });
});

describe("stopping", () => {
  test("stop() drains, signals stopping, and refuses later messages", async () => {
    system = createActorSystem();
    const events = recordEvents(system);
    const signals: string[] = [];
    const seen: number[] = [];
    const ref = system.spawn<number, null>(
      {
        kind: "worker",
        initialState: () => null,
        onSignal: (_ctx, signal) => void signals.push(signal.type),
        receive: (_ctx, n) => void seen.push(n),
      },
      "1",
    );
    for (let n = 0; n < 100; n++) ref.tell(n);
    await system.stop();
    expect(seen.length).toBe(100);
    expect(signals).toEqual(["started", "stopping"]);
    expect(ref.tell(1)).toBe(false);
    expect(events.at(-1)).toEqual(expect.objectContaining({ type: "dead-letter", address: "worker/1" }));
  });

  test("ctx.stop() ends a transient entity normally; its next message starts it again", async () => {
    system = createActorSystem();
    let starts = 0;
    system.register<"stop" | "hi", null>({
      kind: "session",
      initialState: () => {
        starts++;
        return null;
      },
      receive(ctx, message) {
        if (message === "stop") ctx.stop();
      },
    });
    const ref = system.ref<"stop" | "hi">("session", "1");
    ref.tell("stop");
    await system.drain();
    expect(system.stats().actors).toBe(0);
    ref.tell("hi");
    await system.drain();
    expect(starts).toBe(2);
  });

  test("drain() rejects with DRAIN_TIMEOUT when work does not finish in time", async () => {
    system = createActorSystem();
    const ref = system.spawn<number, null>(
      { kind: "slow", initialState: () => null, receive: () => sleep(100) },
      "1",
    );
    ref.tell(1);
    await expect(system.drain(10)).rejects.toThrow("DRAIN_TIMEOUT");
  });
});
