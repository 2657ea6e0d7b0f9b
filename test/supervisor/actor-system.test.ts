import { afterEach, describe, expect, test } from "bun:test";
import { isPlatformError } from "../../messages/errors.ts";
import type { OverflowPolicy, Props, SystemSignal } from "../../supervisor/actor.ts";
import { type ActorSystem, createActorSystem } from "../../supervisor/actor-system.ts";
import { eventually, recordEvents, sleep, supervisionEvents } from "./harness.ts";

let system: ActorSystem | undefined;
afterEach(async () => {
  await system?.stop();
  system = undefined;
});

function collector(
  seen: unknown[],
  mailbox?: { capacity: number; overflow: OverflowPolicy },
  signals?: string[],
): Props<unknown, null> {
  return {
    kind: "collector",
    initialState: () => null,
    ...(mailbox ? { mailbox } : {}),
    ...(signals ? { onSignal: (_ctx: unknown, signal: SystemSignal) => void signals.push(signal.type) } : {}),
    receive(_ctx, message) {
      if (message === "boom") throw new Error("boom");
      seen.push(message);
    },
  };
}

describe("mailbox overflow policies", () => {
  test("backpressure: tell refuses when full and offer waits for room", async () => {
    system = createActorSystem();
    const seen: unknown[] = [];
    const ref = system.spawn(collector(seen, { capacity: 3, overflow: "backpressure" }), "c");
    expect([1, 2, 3, 4].map((n) => ref.tell(n))).toEqual([true, true, true, false]);
    const offered = ref.offer(5);
    expect(system.stats().mailboxDepth).toBe(3);
    await offered;
    await system.drain();
    expect(seen).toEqual([1, 2, 3, 5]);
    expect(system.stats().droppedMessages).toBe(0);
  });

  test("drop-oldest: the oldest queued message goes and is counted", async () => {
    system = createActorSystem();
    const seen: unknown[] = [];
    const ref = system.spawn(collector(seen, { capacity: 3, overflow: "drop-oldest" }), "c");
    for (let n = 1; n <= 6; n++) expect(ref.tell(n)).toBe(true);
    await system.drain();
    expect(seen).toEqual([4, 5, 6]);
    expect(system.stats().droppedMessages).toBe(3);
  });

  test("fail: the actor fails with MAILBOX_FULL and its supervisor decides", async () => {
    system = createActorSystem();
    const events = recordEvents(system);
    const seen: unknown[] = [];
    const ref = system.spawn(collector(seen, { capacity: 2, overflow: "fail" }), "c");
    expect([1, 2, 3, 4].map((n) => ref.tell(n))).toEqual([true, true, false, false]);
    await system.drain();
    const decisions = supervisionEvents(events);
    expect(decisions.length).toBe(1);
    expect(decisions[0]!.decision).toBe("restart");
    expect(decisions[0]!.reason).toContain("MAILBOX_FULL");
    expect(seen).toEqual([1, 2]);
    expect(system.stats().deadLetters).toBe(2);
    await expect(ref.offer(9).then(() => system!.drain())).resolves.toBeUndefined();
  });

  test("the system lane is never dropped and runs before user messages", async () => {
    system = createActorSystem({
      rootSupervision: {
        strategy: "one_for_one",
        intensity: 5,
        periodMs: 60_000,
        backoff: { minMs: 10, maxMs: 10, jitter: 0 },
      },
    });
    const seen: unknown[] = [];
    const signals: string[] = [];
    const order: string[] = [];
    const ref = system.spawn(
      {
        ...collector(seen, { capacity: 1, overflow: "drop-oldest" }, signals),
        receive(_ctx, message) {
          if (message === "boom") throw new Error("boom");
          order.push(`message ${String(message)}`);
        },
        onSignal: (_ctx, signal) => {
          signals.push(signal.type);
          order.push(`signal ${signal.type}`);
        },
      },
      "c",
    );
    for (let n = 0; n < 1_000; n++) ref.tell(n);
    await system.drain();
    expect(order).toEqual(["signal started", "message 999"]);
    ref.tell("boom");
    await sleep(0);
    // while restarting (10 ms back-off) the user lane overflows; the restarted signal survives
    for (let n = 0; n < 1_000; n++) ref.tell(n);
    await system.drain();
    expect(order.slice(2)).toEqual(["signal restarted", "message 999"]);
    expect(system.stats().droppedMessages).toBe(999 + 999);
  });
});

describe("scheduling", () => {
  test("a flooded actor does not starve another (per-turn budget)", async () => {
    system = createActorSystem({ turnBudget: 10 });
    const log: string[] = [];
    const props = (name: string): Props<number, null> => ({
      kind: name,
      mailbox: { capacity: 100_000, overflow: "backpressure" },
      initialState: () => null,
      receive: () => void log.push(name),
    });
    const hot = system.spawn(props("hot"), "1");
    const quiet = system.spawn(props("quiet"), "1");
    for (let i = 0; i < 10_000; i++) hot.tell(i);
    quiet.tell(1);
    await system.drain();
    expect(log.indexOf("quiet")).toBeLessThanOrEqual(20);
    expect(log.length).toBe(10_001);
  });

  test("async receives run one at a time, in order", async () => {
    system = createActorSystem();
    const done: number[] = [];
    let running = 0;
    let maxRunning = 0;
    const ref = system.spawn<number, null>(
      {
        kind: "io",
        initialState: () => null,
        async receive(_ctx, n) {
          running++;
          maxRunning = Math.max(maxRunning, running);
          await sleep(n % 3);
          done.push(n);
          running--;
        },
      },
      "1",
    );
    for (let n = 0; n < 20; n++) ref.tell(n);
    await system.drain();
    expect(done).toEqual(Array.from({ length: 20 }, (_, n) => n));
    expect(maxRunning).toBe(1);
  });

  test("a rejected async receive is a failure handled by the supervisor", async () => {
    system = createActorSystem();
    const events = recordEvents(system);
    const seen: number[] = [];
    const ref = system.spawn<number, null>(
      {
        kind: "io",
        initialState: () => null,
        async receive(_ctx, n) {
          await sleep(1);
          if (n === 2) throw new Error("io failed");
          seen.push(n);
        },
      },
      "1",
    );
    for (let n = 1; n <= 4; n++) ref.tell(n);
    await system.drain();
    expect(seen).toEqual([1, 3, 4]);
    expect(supervisionEvents(events).map((e) => e.reason)).toEqual(["io failed"]);
  });
});

describe("timers", () => {
  type TimerCommand = "arm-once" | "arm-repeat" | "cancel" | "tick" | "boom" | "replace";
  function timerProps(ticks: string[]): Props<TimerCommand, null> {
    return {
      kind: "timed",
      initialState: () => null,
      receive(ctx, command) {
        if (command === "arm-once") ctx.startTimer("t", 5, "tick");
        if (command === "arm-repeat") ctx.startTimer("t", 5, "tick", { repeat: true });
        if (command === "replace") ctx.startTimer("t", 200, "tick");
        if (command === "cancel") ctx.cancelTimer("t");
        if (command === "tick") ticks.push("tick");
        if (command === "boom") throw new Error("boom");
      },
    };
  }

  test("a one-shot timer delivers its message once", async () => {
    system = createActorSystem();
    const ticks: string[] = [];
    system.spawn(timerProps(ticks), "1").tell("arm-once");
    await sleep(40);
    expect(ticks).toEqual(["tick"]);
  });

  test("a repeating timer delivers until cancelled", async () => {
    system = createActorSystem();
    const ticks: string[] = [];
    const ref = system.spawn(timerProps(ticks), "1");
    ref.tell("arm-repeat");
    await eventually(() => ticks.length >= 3);
    ref.tell("cancel");
    await system.drain();
    const count = ticks.length;
    await sleep(30);
    expect(ticks.length).toBe(count);
  });

  test("starting a timer under a used name replaces it", async () => {
    system = createActorSystem();
    const ticks: string[] = [];
    const ref = system.spawn(timerProps(ticks), "1");
    ref.tell("arm-once");
    ref.tell("replace");
    await sleep(40);
    expect(ticks).toEqual([]);
  });

  test("timers are cleared when the actor restarts", async () => {
    system = createActorSystem();
    const ticks: string[] = [];
    const ref = system.spawn(timerProps(ticks), "1");
    ref.tell("arm-repeat");
    ref.tell("boom");
    await system.drain();
    await sleep(30);
    expect(ticks).toEqual([]);
  });

  test("timers are cleared when the system stops", async () => {
    system = createActorSystem();
    const ticks: string[] = [];
    system.spawn(timerProps(ticks), "1").tell("arm-repeat");
    await system.drain();
    await system.stop();
    const count = ticks.length;
    await sleep(30);
    expect(ticks.length).toBe(count);
  });
});

describe("stopping", () => {
  test("a stop with a timeout abandons what is still queued past it and ends", async () => {
    // a node's stop under a backlog: the actors' queued messages are abandoned within the stop's
    // budget (their records stay uncommitted), instead of the system's own 5 s drain, or for ever
    system = createActorSystem({ stopTimeoutMs: 60_000 });
    const handled: number[] = [];
    let release: () => void = () => {};
    const stuck = new Promise<void>((resolve) => {
      release = resolve;
    });
    system.register<number, null>({
      kind: "slow",
      initialState: () => null,
      receive: (_ctx, n) => {
        handled.push(n);
        if (n === 0) return stuck;
      },
    });
    for (let n = 0; n < 1_000; n++) system.tell("slow", "k", n);
    await eventually(() => handled.length === 1);
    const started = performance.now();
    await system.stop(100);
    expect(performance.now() - started).toBeLessThan(5_000);
    release();
    await sleep(20);
    // nothing queued ran after the stop, and the system takes nothing more
    expect(handled).toEqual([0]);
    expect(system.tell("slow", "k", 1_000)).toBe(false);
  });
});

describe("bad input", () => {
  test("a message that throws does not kill the system; every good message is handled", async () => {
    system = createActorSystem();
    const totals = new Map<string, number>();
    system.register<number | "poison", { sum: number }>({
      kind: "sensor",
      initialState: (_key, snapshot) => snapshot ?? { sum: 0 },
      receive(ctx, message) {
        if (message === "poison") throw new Error("poison");
        ctx.state.sum += message;
        totals.set(ctx.key, (totals.get(ctx.key) ?? 0) + message);
      },
    });
    let poisons = 0;
    for (let i = 0; i < 1_000; i++) {
      const poison = i % 97 === 0;
      if (poison) poisons++;
      system.ref<number | "poison">("sensor", `s${i % 10}`).tell(poison ? "poison" : 1);
    }
    await system.drain();
    expect(system.stats().processed).toBe(1_000);
    expect(system.stats().restarts).toBe(poisons);
    expect([...totals.values()].reduce((a, b) => a + b, 0)).toBe(1_000 - poisons);
    expect(system.tree().status).toBe("running");
  });

  test("a key that keeps failing is stopped alone, its queue dead-lettered, and comes back on demand", async () => {
    system = createActorSystem();
    const events = recordEvents(system);
    let starts = 0;
    system.register<string, null>({
      kind: "sensor",
      supervision: { strategy: "one_for_one", intensity: 2, periodMs: 60_000, intensityScope: "child" },
      initialState: () => {
        starts++;
        return null;
      },
      receive(_ctx, message) {
        if (message === "poison") throw new Error("poison");
      },
    });
    const bad = system.ref<string>("sensor", "bad");
    const good = system.ref<string>("sensor", "good");
    for (let i = 0; i < 3; i++) bad.tell("poison");
    bad.tell("fine");
    good.tell("fine");
    await system.drain();
    expect(supervisionEvents(events).map((e) => e.decision)).toEqual(["restart", "restart", "stop"]);
    expect(events).toContainEqual(expect.objectContaining({ type: "dead-letter", address: "sensor/bad" }));
    expect(system.stats().byKind.sensor!.actors).toBe(1);
    expect(bad.tell("fine")).toBe(true);
    await system.drain();
    expect(system.stats().byKind.sensor!.actors).toBe(2);
    expect(starts).toBe(5);
  });

  test("in supervisor scope a failing kind escalates to the root, which restarts the kind empty", async () => {
    system = createActorSystem();
    const events = recordEvents(system);
    system.register<string, null>({
      kind: "sensor",
      supervision: { strategy: "one_for_one", intensity: 1, periodMs: 60_000, intensityScope: "supervisor" },
      initialState: () => null,
      receive(_ctx, message) {
        if (message === "poison") throw new Error("poison");
      },
    });
    system.ref<string>("sensor", "a").tell("poison");
    system.ref<string>("sensor", "b").tell("fine");
    await system.drain();
    system.ref<string>("sensor", "a").tell("poison");
    await system.drain();
    const decisions = supervisionEvents(events).map((e) => `${e.supervisor} ${e.decision} ${e.child}`);
    expect(decisions).toEqual([
      "sensor/* restart sensor/a",
      "sensor/* escalate sensor/a",
      "root restart sensor/*",
    ]);
    expect(system.stats().byKind.sensor!.actors).toBe(0);
    expect(system.ref<string>("sensor", "b").tell("fine")).toBe(true);
    await system.drain();
    expect(system.stats().byKind.sensor!.actors).toBe(1);
  });

  test("system.tell routes to a sharded entity without a ref, and dead-letters unknown kinds", async () => {
    system = createActorSystem();
    const seen: string[] = [];
    system.register<number, null>({
      kind: "sensor",
      initialState: () => null,
      receive: (ctx, n) => void seen.push(`${ctx.key}:${n}`),
    });
    expect(system.tell("sensor", "a", 1)).toBe(true);
    expect(system.tell("sensor", "a", 2)).toBe(true);
    expect(system.tell("nobody", "a", 3)).toBe(false);
    await system.drain();
    expect(seen).toEqual(["a:1", "a:2"]);
    expect(system.stats().deadLetters).toBe(1);
  });

  test("a tell to an unknown kind is a dead letter, not a crash", async () => {
    system = createActorSystem();
    const events = recordEvents(system);
    expect(system.ref("nobody", "1").tell("hello")).toBe(false);
    expect(events).toContainEqual(expect.objectContaining({ type: "dead-letter", address: "nobody/1" }));
    expect(system.stats().deadLetters).toBe(1);
    const refused = await system
      .ref("nobody", "1")
      .offer("hello")
      .then(
        () => undefined,
        (error: unknown) => error,
      );
    expect(isPlatformError(refused, "UNKNOWN_ACTOR_KIND")).toBe(true);
  });
});
