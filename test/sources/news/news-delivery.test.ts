import { afterEach, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { openLog } from "../../../log/index.ts";
import type { Log, LogRecord } from "../../../log/log.ts";
import type { DeadLetter } from "../../../messages/dead-letter.ts";
import { Topics } from "../../../messages/topics.ts";
import { newsDelivery } from "../../../sources/news/news-delivery.ts";
import { corpusArticles, DISTRICTS } from "./news-fixture.ts";

const PARTITIONS = 3;
let cleanup: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const step of cleanup.reverse()) await step();
  cleanup = [];
});

async function world() {
  const dir = mkdtempSync(join(tmpdir(), "news-delivery-"));
  cleanup.push(() => rmSync(dir, { recursive: true, force: true }));
  const log = await openLog({ kind: "embedded", path: join(dir, "log.db") });
  let open = true;
  cleanup.push(() => (open ? log.close() : undefined));
  await log.createTopic({ name: Topics.newsArticlesRaw, partitions: PARTITIONS });
  const letters: { letter: DeadLetter; sourceKind: string; durable: boolean }[] = [];
  const delivered: [string, number][] = [];
  let releaseFlush: (() => void) | undefined;
  const flushAsked = Promise.withResolvers<void>();
  const rejects = {
    deadLetter: (letter: DeadLetter, sourceKind: string) =>
      letters.push({ letter, sourceKind, durable: false }),
    // a flush held until the test lets it finish, to see the delivery wait for it
    flush: () =>
      new Promise<void>((resolve) => {
        flushAsked.resolve();
        releaseFlush = () => {
          for (const l of letters) l.durable = true;
          resolve();
        };
      }),
  };
  const deliver = newsDelivery({
    log,
    encode: (_topic, value) => new TextEncoder().encode(JSON.stringify(value)),
    rejects,
    onDelivered: (source, n) => delivered.push([source, n]),
  });
  return {
    log,
    deliver,
    letters,
    delivered,
    flushAsked: flushAsked.promise,
    releaseFlush: () => releaseFlush?.(),
    async close() {
      open = false;
      await log.close();
    },
  };
}

async function articlesIn(log: Log): Promise<LogRecord[]> {
  const all: LogRecord[] = [];
  for (let partition = 0; partition < PARTITIONS; partition++)
    all.push(...(await log.read({ topic: Topics.newsArticlesRaw, partition })));
  return all;
}

test("each article is appended keyed by the place it was searched for, stamped with its publication time", async () => {
  const w = await world();
  const articles = [
    ...(await corpusArticles(DISTRICTS[0])).slice(0, 2),
    ...(await corpusArticles(DISTRICTS[1])).slice(0, 2),
  ];
  expect(articles.length).toBe(4);
  await w.deliver(articles, [], "replay");
  const records = await articlesIn(w.log);
  const seen = records
    .map((r) => ({
      key: r.key,
      timestamp: r.timestamp,
      article: JSON.parse(new TextDecoder().decode(r.value!)),
    }))
    .sort((a, b) => a.article.id.localeCompare(b.article.id));
  const expected = articles
    .map((article) => ({ key: article.location, timestamp: Date.parse(article.published_at), article }))
    .sort((a, b) => a.article.id.localeCompare(b.article.id));
  expect(seen).toEqual(expected);
  expect(w.delivered).toEqual([["replay", 4]]);
  expect(w.letters).toEqual([]);
});

test("rejected items become dead letters with their reason, durable before the delivery resolves", async () => {
  const w = await world();
  let resolved = false;
  const delivery = w.deliver([], [{ reason: "no title", raw: '{"url":"x"}' }], "newsapi").then(() => {
    resolved = true;
  });
  // the dead letter is handed over, then the delivery waits on its flush
  await w.flushAsked;
  await Bun.sleep(0);
  expect(w.letters.length).toBe(1);
  expect(resolved).toBe(false);
  w.releaseFlush();
  await delivery;
  expect(resolved).toBe(true);
  expect(
    w.letters.map(({ letter, sourceKind, durable }) => [
      letter.source,
      letter.code,
      letter.reason,
      sourceKind,
      durable,
    ]),
  ).toEqual([["news:newsapi", "SCHEMA_VIOLATION", "no title", "news", true]]);
  expect(await articlesIn(w.log)).toEqual([]);
});

test("a delivery whose append fails rejects, so the poller tries the articles again, and counts nothing", async () => {
  const w = await world();
  const articles = (await corpusArticles(DISTRICTS[0])).slice(0, 1);
  await w.close();
  await expect(w.deliver(articles, [], "replay")).rejects.toThrow();
  expect(w.delivered).toEqual([]);
});
