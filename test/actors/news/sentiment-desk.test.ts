import { expect, test } from "bun:test";
import type { RollingSentiment } from "../../../actors/news/rolling-sentiment.ts";
import { type DeskControl, sentimentDeskProps } from "../../../actors/news/sentiment-desk.ts";
import { createActorSystem, InMemorySnapshotStore } from "../../../supervisor/index.ts";

/**
 * What every news desk shares: an item is taken once (replays skipped by offset, the same
 * article by id), a checkpoint saves a copy of the state, an eviction stops the desk and its
 * next incarnation starts from the snapshot.
 */
type Item = { readonly type: "item"; readonly id: string; readonly offset: number };
const item = (id: string, offset: number): Item => ({ type: "item", id, offset });

async function desk(rememberIds = 1000) {
  const system = createActorSystem({ name: "test", snapshots: new InMemorySnapshotStore() });
  const taken: string[] = [];
  const saved: RollingSentiment[] = [];
  system.register(
    sentimentDeskProps<Item>({
      kind: "desk",
      onState: (_key, state) => saved.push(state),
      passivateAfterMs: 60_000,
      rememberIds,
      articleIdOf: (i) => i.id,
      take: (key, state, i) => {
        state.articles++;
        taken.push(`${key}:${i.id}`);
      },
    }),
  );
  const send = async (messages: (Item | DeskControl)[]) => {
    for (const m of messages) system.tell("desk", "k", m);
    await system.drain();
  };
  return { system, send, taken, saved };
}

test.each<[string, (Item | DeskControl)[], readonly string[], number]>([
  ["new items are taken in order", [item("a", 0), item("b", 1)], ["k:a", "k:b"], 2],
  [
    "an item replayed at an offset already taken is skipped",
    [item("a", 0), item("b", 1), item("c", 1)],
    ["k:a", "k:b"],
    2,
  ],
  ["the same article at a later offset is skipped", [item("a", 0), item("a", 1)], ["k:a"], 1],
  ["a wake-up takes nothing", [{ type: "wake" }, item("a", 0)], ["k:a"], 1],
])("%s", async (_name, messages, taken, articles) => {
  const d = await desk();
  await d.send([...messages, { type: "checkpoint" }]);
  expect(d.taken).toEqual([...taken]);
  expect(d.saved.at(-1)?.articles).toBe(articles);
  await d.system.stop();
});

test("a checkpoint saves a copy: later items do not change what was saved", async () => {
  const d = await desk();
  await d.send([item("a", 0), { type: "checkpoint" }, item("b", 1)]);
  expect(d.saved[0]?.recentIds).toEqual(["a"]);
  await d.system.stop();
});

test("an eviction stops the desk: the next item starts a fresh one (the engine checkpoints before it evicts)", async () => {
  const d = await desk();
  await d.send([item("a", 0), { type: "evict" }]);
  await d.send([item("a", 5), item("b", 6), { type: "checkpoint" }]);
  expect(d.taken).toEqual(["k:a", "k:a", "k:b"]);
  expect(d.saved.at(-1)?.articles).toBe(2);
  await d.system.stop();
});

test("a desk forgets the oldest ids past what it remembers", async () => {
  const d = await desk(2);
  await d.send([item("a", 0), item("b", 1), item("c", 2), item("a", 3)]);
  expect(d.taken).toEqual(["k:a", "k:b", "k:c", "k:a"]);
  await d.system.stop();
});
