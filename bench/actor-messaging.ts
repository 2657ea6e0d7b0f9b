/**
 * Same-thread actor messaging: ping-pong between two actors (one message in flight, and a
 * volley of many in flight), and fan-in (many senders, one receiver). Baseline from the same
 * run: EventTarget.dispatchEvent per message (the platform's own message dispatch); also shown,
 * not used as the baseline, the floor: a function call per message through a ring-buffer array
 * queue, which the JIT inlines into a loop.
 * Erlang's in-process ping-pong is about 12M msgs/s; the target is >= 20M.
 */
import type { ActorRef, Props } from "../supervisor/actor.ts";
import { createActorSystem } from "../supervisor/actor-system.ts";
import { median } from "./support.ts";

type Ball = { readonly type: "ball" };
type PlayerMessage = Ball | { readonly type: "meet"; readonly other: ActorRef<PlayerMessage> };

interface Player {
  other: ActorRef<PlayerMessage> | undefined;
  remaining: number;
}

async function pingPong(total: number, inFlight: number): Promise<number> {
  const system = createActorSystem({ name: "bench" });
  let done: () => void = () => {};
  const finished = new Promise<void>((resolve) => {
    done = resolve;
  });
  const props: Props<PlayerMessage, Player> = {
    kind: "player",
    initialState: () => ({ other: undefined, remaining: total / 2 }),
    receive(ctx, message) {
      const state = ctx.state;
      if (message.type === "meet") {
        state.other = message.other;
        return;
      }
      if (--state.remaining <= 0) {
        if (state.remaining === 0) done();
        return;
      }
      state.other!.tell(message);
    },
  };
  const ping = system.spawn(props, "ping");
  const pong = system.spawn(props, "pong");
  ping.tell({ type: "meet", other: pong });
  pong.tell({ type: "meet", other: ping });
  await system.drain();
  const ball: Ball = { type: "ball" };
  const start = performance.now();
  for (let i = 0; i < inFlight; i++) ping.tell(ball);
  await finished;
  const seconds = (performance.now() - start) / 1000;
  await system.stop();
  return total / seconds;
}

async function fanIn(senders: number, perSender: number): Promise<number> {
  const system = createActorSystem({ name: "bench" });
  const total = senders * perSender;
  let done: () => void = () => {};
  const finished = new Promise<void>((resolve) => {
    done = resolve;
  });
  const sink = system.spawn<number, { seen: number }>(
    {
      kind: "sink",
      mailbox: { capacity: 1 << 16, overflow: "backpressure" },
      // a fan-in sink takes a bigger share of each round than its 100 senders
      turnBudget: 8192,
      initialState: () => ({ seen: 0 }),
      receive(ctx) {
        if (++ctx.state.seen === total) done();
      },
    },
    "0",
  );
  const sender: Props<number, { left: number }> = {
    kind: "sender",
    initialState: () => ({ left: perSender }),
    receive(ctx, burst) {
      const state = ctx.state;
      // a full sink under back-pressure refuses: stop the burst and try again next turn
      const n = Math.min(burst, state.left);
      let sent = 0;
      while (sent < n && sink.tell(sent)) sent++;
      state.left -= sent;
      if (state.left > 0) ctx.self.tell(burst);
    },
  };
  const refs = Array.from({ length: senders }, (_, i) => system.spawn(sender, String(i)));
  const start = performance.now();
  for (const ref of refs) ref.tell(64);
  await finished;
  const seconds = (performance.now() - start) / 1000;
  await system.stop();
  return total / seconds;
}

/** baseline: push into a ring-buffer array queue and call a handler function per message */
function functionQueueBaseline(total: number): number {
  const slots = new Array<unknown>(1024);
  let head = 0;
  let size = 0;
  let seen = 0;
  const handler = (message: unknown) => {
    if (message !== undefined) seen++;
    if (size < 1) {
      slots[(head + size) & 1023] = message;
      size++;
    }
  };
  const ball = { type: "ball" };
  slots[0] = ball;
  size = 1;
  const start = performance.now();
  for (let i = 0; i < total; i++) {
    const message = slots[head];
    slots[head] = undefined;
    head = (head + 1) & 1023;
    size--;
    handler(message);
  }
  const seconds = (performance.now() - start) / 1000;
  if (seen !== total) throw new Error("baseline lost messages");
  return total / seconds;
}

/** baseline: the platform's own message dispatch, an EventTarget event per message */
function eventTargetBaseline(total: number): number {
  const target = new EventTarget();
  let seen = 0;
  target.addEventListener("ball", () => {
    seen++;
  });
  const event = new Event("ball");
  const start = performance.now();
  for (let i = 0; i < total; i++) target.dispatchEvent(event);
  const seconds = (performance.now() - start) / 1000;
  if (seen !== total) throw new Error("baseline lost events");
  return total / seconds;
}

const RUNS = Number(process.env.RUNS ?? 5);
const TOTAL = Number(process.env.MESSAGES ?? 10_000_000);
const figures = {
  pingPong1: [] as number[],
  pingPong1000: [] as number[],
  fanIn: [] as number[],
  baseline: [] as number[],
  eventTarget: [] as number[],
};
// warm-up: let the JIT see every path once
await pingPong(1_000_000, 1);
await pingPong(1_000_000, 100);
await fanIn(10, 100_000);
for (let run = 0; run < RUNS; run++) {
  figures.baseline.push(functionQueueBaseline(TOTAL));
  figures.eventTarget.push(eventTargetBaseline(TOTAL / 10));
  figures.pingPong1.push(await pingPong(TOTAL, 1));
  figures.pingPong1000.push(await pingPong(TOTAL, 1000));
  figures.fanIn.push(await fanIn(100, TOTAL / 100));
}
const baseline = median(figures.eventTarget);
const rows = [
  { figure: "ping-pong, 1 in flight", msgs_per_s: median(figures.pingPong1) },
  { figure: "ping-pong, 1000 in flight", msgs_per_s: median(figures.pingPong1000) },
  { figure: "fan-in, 100 senders -> 1", msgs_per_s: median(figures.fanIn) },
  { figure: "baseline: EventTarget.dispatchEvent", msgs_per_s: baseline },
  { figure: "floor: function call + array ring queue", msgs_per_s: median(figures.baseline) },
];
console.table(rows.map((r) => ({ figure: r.figure, "M msgs/s": (r.msgs_per_s / 1e6).toFixed(2) })));
const names = ["actor-messaging.ping-pong-1", "actor-messaging.ping-pong-1000", "actor-messaging.fan-in-100"];
for (let i = 0; i < names.length; i++) {
  console.log(
    JSON.stringify({
      name: names[i],
      value: Math.round(rows[i]!.msgs_per_s),
      unit: "msgs/s",
      baseline: "event-target-dispatch",
      baseline_value: Math.round(baseline),
    }),
  );
}
