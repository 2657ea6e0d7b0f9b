import { describe, expect, test } from "bun:test";
import {
  mentionsOf,
  type SymbolNewsMessage,
  type SymbolNewsState,
  symbolNewsDeskProps,
  symbolNewsInputOf,
} from "../../../actors/news/symbol-news-desk.ts";
import type { SymbolSentiment } from "../../../messages/news.ts";
import { createActorSystem, InMemorySnapshotStore } from "../../../supervisor/index.ts";

const mention = (id: string, score: number, offset: number, hour = 10): SymbolNewsMessage => ({
  type: "mention",
  mention: {
    symbol: "AAPL",
    article_id: id.padStart(32, "0"),
    title: `story ${id}`,
    published_at: `2026-11-30T${String(hour).padStart(2, "0")}:00:00.000Z`,
    score,
    reader: "local",
  },
  offset,
});

async function desk(snapshot?: SymbolNewsState) {
  const snapshots = new InMemorySnapshotStore();
  if (snapshot) await snapshots.save("symbol-news/AAPL", snapshot);
  const system = createActorSystem({ name: "test", snapshots });
  const sentiments: SymbolSentiment[] = [];
  const states: SymbolNewsState[] = [];
  system.register(
    symbolNewsDeskProps({
      onSentiment: (s) => sentiments.push(s),
      onState: (_k, s) => states.push(s),
      now: () => 5_000,
      passivateAfterMs: 60_000,
    }),
  );
  const send = async (messages: SymbolNewsMessage[]) => {
    for (const m of messages) system.tell("symbol-news", "AAPL", m);
    await system.drain();
  };
  return { system, send, sentiments, states };
}

describe("the symbol news desk", () => {
  test("keeps the company's rolling sentiment, newest articles weighing most", async () => {
    const d = await desk();
    await d.send([mention("1", 0.5, 0), mention("2", -1, 1, 11), mention("3", 1, 2, 9)]);
    expect(d.sentiments.map((s) => [s.articles, s.sentiment])).toEqual([
      [1, 0.5],
      [2, 0.2], // 0.2 x -1 + 0.8 x 0.5
      [3, 0.36], // 0.2 x 1 + 0.8 x 0.2
    ]);
    // the newest article's time, not the last one's
    expect(d.sentiments.at(-1)).toMatchObject({
      symbol: "AAPL",
      last_article_at: "2026-11-30T11:00:00.000Z",
    });
    await d.system.stop();
  });

  test.each([
    ["a mention replayed from the topic (same offset)", [mention("1", 0.5, 0), mention("1", 0.5, 0)]],
    [
      "the same article found by a place and by the company search",
      [mention("1", 0.5, 0), mention("1", 0.5, 1)],
    ],
  ])("counts an article once: %s", async (_name, messages) => {
    const d = await desk();
    await d.send(messages);
    expect(d.sentiments.map((s) => s.articles)).toEqual([1]);
    await d.system.stop();
  });

  test("its checkpointed state restores: the count goes on and a replay before it is skipped", async () => {
    const first = await desk();
    await first.send([mention("1", 0.5, 0), mention("2", 1, 1), { type: "checkpoint" }]);
    const saved = first.states.at(-1)!;
    await first.system.stop();
    const second = await desk(saved);
    await second.send([mention("2", 1, 1), mention("3", 0, 2)]);
    expect(second.sentiments.map((s) => s.articles)).toEqual([3]);
    await second.system.stop();
  });
});

describe("the symbol news desk's input", () => {
  test("an insight names one mention per symbol it is about, with the insight's score", () => {
    const insight = {
      article_id: "a".repeat(32),
      title: "t",
      published_at: "2026-11-30T10:00:00.000Z",
      sentiment: { score: 0.4 },
      reader: "local",
      symbols: ["AAPL", "MSFT"],
    } as unknown as Parameters<typeof mentionsOf>[0];
    expect(mentionsOf(insight).map((m) => [m.symbol, m.score, m.article_id])).toEqual([
      ["AAPL", 0.4, "a".repeat(32)],
      ["MSFT", 0.4, "a".repeat(32)],
    ]);
    expect(mentionsOf({ ...insight, symbols: undefined } as never)).toEqual([]);
  });

  test.each<[string, unknown]>([
    ["not an object", "AAPL"],
    [
      "a mention without its score",
      { symbol: "AAPL", article_id: "x", title: "t", published_at: "p", reader: "local" },
    ],
  ])("a record that is %s is a schema violation naming the field", (_name, value) => {
    expect(() => symbolNewsInputOf(value, 0)).toThrow(/SCHEMA_VIOLATION|not a symbol mention/);
  });

  test("a mention record becomes the desk's message at its offset", () => {
    const m = mention("1", 0.5, 7);
    expect(symbolNewsInputOf((m as { mention: unknown }).mention, 7)).toEqual(m);
  });
});
