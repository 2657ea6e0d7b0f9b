import { describe, expect, test } from "bun:test";
import { type NewsDeskMessage, type NewsDeskState, newsDeskProps } from "../../../actors/news/news-desk.ts";
import type { LocationSentiment, NewsArticle, NewsInsight } from "../../../messages/news.ts";
import type { ArticleReader } from "../../../sources/news/reader/article-reader.ts";
import { createActorSystem, InMemorySnapshotStore } from "../../../supervisor/index.ts";
import { corpusArticles } from "../../sources/news/news-fixture.ts";

/** a reader that answers a fixed sentiment per article id, or fails for some */
function scriptedReader(scores: Map<string, number>, failing = new Set<string>()): ArticleReader {
  return {
    name: "scripted",
    async read(article) {
      if (failing.has(article.id)) throw new Error("the reader broke");
      const score = scores.get(article.id) ?? 0;
      return {
        reading: {
          summary: article.title,
          sentiment: { score, label: score > 0 ? "positive" : score < 0 ? "negative" : "neutral" },
          entities: [],
          locations: [article.location],
        },
        reader: "local",
        model: null,
        followUpQueries: [],
        tokens: 0,
        fallbackReason: null,
      };
    },
  };
}

async function desk(reader: ArticleReader, snapshot?: NewsDeskState) {
  const snapshots = new InMemorySnapshotStore();
  if (snapshot) await snapshots.save("news/Mitte", snapshot);
  const system = createActorSystem({ name: "test", snapshots });
  const insights: NewsInsight[] = [];
  const sentiments: LocationSentiment[] = [];
  const unreadable: string[] = [];
  const states: NewsDeskState[] = [];
  system.register(
    newsDeskProps({
      reader,
      onInsight: (i) => insights.push(i),
      onSentiment: (s) => sentiments.push(s),
      onUnreadable: (_a, reason) => unreadable.push(reason),
      onState: (_k, s) => states.push(s),
      now: () => 1_000,
      passivateAfterMs: 60_000,
      rememberIds: 3,
    }),
  );
  const send = async (messages: NewsDeskMessage[]) => {
    for (const m of messages) system.tell("news", "Mitte", m);
    await system.drain();
  };
  return { system, send, insights, sentiments, unreadable, states };
}

describe("the news desk", () => {
  test("reads each article once: a replayed offset and a story seen again are skipped", async () => {
    const [a, b] = await corpusArticles("Mitte");
    const d = await desk(scriptedReader(new Map()));
    await d.send([
      { type: "article", article: a!, offset: 0 },
      { type: "article", article: a!, offset: 0 }, // replay from the topic
      { type: "article", article: { ...a!, provider: "gdelt" }, offset: 1 }, // same story, another poll
      { type: "article", article: b!, offset: 2 },
    ]);
    expect(d.insights.map((i) => i.article_id)).toEqual([a!.id, b!.id]);
    await d.system.stop();
  });

  test("the rolling sentiment weighs the newest article 0.2, the first one fully", async () => {
    const articles = (await corpusArticles("Mitte")).slice(0, 3);
    const scores = new Map(articles.map((a, i) => [a.id, [1, -1, 0.5][i]!]));
    const d = await desk(scriptedReader(scores));
    await d.send(articles.map((article, offset) => ({ type: "article", article, offset })));
    expect(d.sentiments.map((s) => s.sentiment)).toEqual([1, 0.6, 0.58]);
    expect(d.sentiments.at(-1)).toMatchObject({ location: "Mitte", articles: 3 });
    await d.system.stop();
  });

  test("an article no reader can read is a dead letter with the reason; the desk goes on", async () => {
    const [a, b] = await corpusArticles("Mitte");
    const d = await desk(scriptedReader(new Map(), new Set([a!.id])));
    await d.send([
      { type: "article", article: a!, offset: 0 },
      { type: "article", article: b!, offset: 1 },
    ]);
    expect(d.unreadable).toEqual(["the reader broke"]);
    expect(d.insights.map((i) => i.article_id)).toEqual([b!.id]);
    await d.system.stop();
  });

  test("its state at a checkpoint restores a desk that skips what it read, remembering a bounded number of ids", async () => {
    const articles: NewsArticle[] = (await corpusArticles("Mitte")).slice(0, 5);
    const first = await desk(scriptedReader(new Map()));
    await first.send([
      ...articles.map((article, offset): NewsDeskMessage => ({ type: "article", article, offset })),
      { type: "checkpoint" },
    ]);
    const saved = first.states.at(-1)!;
    expect(saved.recentIds).toEqual(articles.slice(2).map((a) => a.id)); // rememberIds: 3
    expect(saved.lastOffset).toBe(4);
    await first.system.stop();

    const second = await desk(scriptedReader(new Map()), saved);
    await second.send([
      { type: "article", article: articles[4]!, offset: 3 }, // replayed offset
      { type: "article", article: articles[3]!, offset: 10 }, // remembered story
      { type: "article", article: articles[0]!, offset: 11 }, // forgotten: read again (a repeat, never a loss)
    ]);
    expect(second.insights.map((i) => i.article_id)).toEqual([articles[0]!.id]);
    await second.system.stop();
  });
});
