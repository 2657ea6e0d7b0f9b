import { describe, expect, test } from "bun:test";
import { ArticleReading } from "../../../../messages/news.ts";
import { readLocally, sentimentOf } from "../../../../sources/news/reader/local-reader.ts";
import { companies, companyArticles, corpusArticles, gazetteer } from "../news-fixture.ts";

describe("the local reader", () => {
  test.each([
    ["praise and a celebration", "Residents praised the new park and celebrated its opening.", "positive"],
    ["a crash and delays", "A crash caused heavy congestion and long delays.", "negative"],
    ["negation turns praise around", "Residents did not welcome the plan.", "negative"],
    ["a plain fact", "The council meets on Tuesday at the town hall.", "neutral"],
    ["a phrase counts once, as a phrase", "The project finished on time and under budget.", "positive"],
  ])("sentiment: %s", (_name, text, label) => {
    const score = sentimentOf(text);
    const got = score > 0.05 ? "positive" : score < -0.05 ? "negative" : "neutral";
    expect(got).toBe(label);
    expect(Math.abs(score)).toBeLessThanOrEqual(1);
  });

  test.each([
    ["exact spelling", "Traffic in Neukölln today", ["Neukölln"]],
    [
      "without accents or case",
      "traffic in neukolln and TEMPELHOF-SCHONEBERG",
      ["Neukölln", "Tempelhof-Schöneberg"],
    ],
    ["not inside another word", "The Mittens bakery reopened", []],
    ["in order of first mention, each once", "Pankow, then Mitte, then Pankow again", ["Pankow", "Mitte"]],
  ])("gazetteer: %s", (_name, text, places) => {
    expect(gazetteer.mentionedIn(text)).toEqual(places);
  });

  test("every corpus article gets a reading of the schema: two-sentence summary, its district, people and institutions", async () => {
    for (const article of await corpusArticles("Pankow")) {
      const reading = readLocally(article, gazetteer);
      expect(ArticleReading.safeParse(reading).success).toBe(true);
      expect(reading.locations[0]).toBe("Pankow");
      expect(reading.summary.split(/(?<=[.!?])\s+/).length).toBeLessThanOrEqual(2);
    }
  });

  test("entities: a titled person, an institution and the districts", () => {
    const reading = readLocally(
      {
        title: "Mayor Lena Vogel opens bridge in Mitte",
        description: "The environment agency said the bridge links Mitte with Pankow.",
        content: null,
      },
      gazetteer,
    );
    expect(reading.entities).toEqual([
      { name: "Mitte", type: "location" },
      { name: "Pankow", type: "location" },
      { name: "Lena Vogel", type: "person" },
      { name: "Environment Agency", type: "organization" },
    ]);
  });

  test("a huge or odd article still reads within the schema's limits", () => {
    const reading = readLocally(
      {
        title: "🚧".repeat(300),
        description: `${"word ".repeat(50_000)}.`,
        content: "\u0000\u0001 [+123 chars]",
      },
      gazetteer,
    );
    expect(ArticleReading.safeParse(reading).success).toBe(true);
  });
});

describe("the local reader on company news", () => {
  test("names the companies of every corpus company story: the one searched for first, a partner too", async () => {
    for (const article of await companyArticles()) {
      const reading = readLocally(article, gazetteer, companies);
      expect(ArticleReading.safeParse(reading).success).toBe(true);
      expect(reading.symbols?.[0]).toBe(article.symbol!);
      expect(reading.entities).toContainEqual({ name: article.location, type: "organization" });
      if (article.url.endsWith("/partnership")) expect(reading.symbols?.length).toBe(2);
    }
  });

  test("a city story names no company", async () => {
    for (const article of await corpusArticles("Mitte"))
      expect(readLocally(article, gazetteer, companies).symbols).toEqual([]);
  });
});
