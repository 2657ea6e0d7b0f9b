import { afterEach, describe, expect, test } from "bun:test";
import { ErrorCodes, isPlatformError } from "../../../../messages/errors.ts";
import { ArticleReading, type NewsArticle } from "../../../../messages/news.ts";
import { fallbackReader } from "../../../../sources/news/reader/fallback-reader.ts";
import { geminiReader } from "../../../../sources/news/reader/gemini-reader.ts";
import { localReader, readLocally } from "../../../../sources/news/reader/local-reader.ts";
import { type GeminiSimulator, startGeminiSimulator } from "../../../../testkit/gemini-simulator.ts";
import { companies, companyArticles, corpusArticles, gazetteer } from "../news-fixture.ts";

/** The official Gemini SDK, unchanged, against a local server that speaks Gemini's REST API. */
const KEY = "gemini-test-key-0b9c";
const simulators: GeminiSimulator[] = [];
afterEach(async () => {
  await Promise.all(simulators.splice(0).map((s) => s.stop()));
});
const simulator = (options: Partial<Parameters<typeof startGeminiSimulator>[0]> = {}) => {
  const started = startGeminiSimulator({ apiKey: KEY, gazetteer, ...options });
  simulators.push(started);
  return started;
};
const article = async (): Promise<NewsArticle> => (await corpusArticles("Mitte"))[0]!;

describe("geminiReader through @google/genai", () => {
  test("searches for context when the model asks, then answers the reading as structured output", async () => {
    const gemini = simulator({ asksForSearch: true });
    const searched: string[] = [];
    const reader = geminiReader({
      apiKey: KEY,
      baseUrl: gemini.url,
      gazetteer,
      search: async (q) => {
        searched.push(q);
        return corpusArticles("Mitte");
      },
    });
    const a = await article();
    const answer = await reader.read(a);
    expect(searched).toEqual(["Mitte news"]);
    expect(answer.followUpQueries).toEqual(["Mitte news"]);
    expect(gemini.requests.map((r) => [r.withTools, r.structured, r.functionResponses])).toEqual([
      [true, false, 0],
      [true, false, 1],
      [false, true, 1],
    ]);
    expect(ArticleReading.safeParse(answer.reading).success).toBe(true);
    expect(answer.reading.locations).toContain("Mitte");
    expect(answer).toMatchObject({ reader: "gemini", model: "gemini-2.5-flash", fallbackReason: null });
    expect(answer.tokens).toBeGreaterThan(0);
  });

  test("the call budget bounds the agentic loop: with 1 call there is no search", async () => {
    const gemini = simulator({ asksForSearch: true });
    const reader = geminiReader({
      apiKey: KEY,
      baseUrl: gemini.url,
      gazetteer,
      search: async () => [],
      budget: { maxCalls: 1 },
    });
    const answer = await reader.read(await article());
    expect(answer.followUpQueries).toEqual([]);
    expect(gemini.requests.length).toBe(1);
  });

  test.each([
    ["a wrong key", { apiKey: "wrong-key-9f" }, undefined, ErrorCodes.SOURCE_UNAUTHORIZED],
    ["a quota that ran out (429)", {}, 429, ErrorCodes.RATE_LIMITED],
    ["a server error", {}, 500, ErrorCodes.SOURCE_UNAVAILABLE],
  ])("%s comes out as the port's code, without the key", async (_name, override, status, code) => {
    const gemini = simulator();
    if (status) gemini.failNext(10, status);
    const reader = geminiReader({ apiKey: KEY, baseUrl: gemini.url, gazetteer, ...override });
    const failure = await reader.read(await article()).catch((e: unknown) => e);
    expect(isPlatformError(failure, code)).toBe(true);
    expect(String((failure as Error).message)).not.toContain("key-");
  });

  test("an answer that is not the reading schema is LLM_OUTPUT_INVALID", async () => {
    const gemini = simulator({ answers: "invalid" });
    const failure = await geminiReader({ apiKey: KEY, baseUrl: gemini.url, gazetteer })
      .read(await article())
      .catch((e: unknown) => e);
    expect(isPlatformError(failure, ErrorCodes.LLM_OUTPUT_INVALID)).toBe(true);
  });
});

describe("fallbackReader", () => {
  test("on a 429 the local reader answers with the reason, and Gemini rests instead of being asked per article", async () => {
    const gemini = simulator();
    gemini.failNext(1, 429);
    const reader = fallbackReader(
      geminiReader({ apiKey: KEY, baseUrl: gemini.url, gazetteer }),
      localReader(gazetteer),
    );
    const [first, second] = await corpusArticles("Mitte");
    const a = await reader.read(first!);
    expect(a.reader).toBe("local");
    expect(a.fallbackReason).toContain("RATE_LIMITED");
    expect(a.reading).toEqual(readLocally(first!, gazetteer));
    await reader.read(second!);
    expect(gemini.requests.length).toBe(0); // the 429 answer is not a request seen; nothing after it
    expect(reader.stats().fallbacks).toBe(2);
  });

  test("a story read before is answered from the cache, with no second model call", async () => {
    const gemini = simulator();
    const reader = fallbackReader(
      geminiReader({ apiKey: KEY, baseUrl: gemini.url, gazetteer }),
      localReader(gazetteer),
    );
    const a = await article();
    await reader.read(a);
    await reader.read({ ...a, id: "f".repeat(32), provider: "gdelt" });
    expect(gemini.requests.length).toBe(1);
    expect(reader.stats()).toMatchObject({ hits: 1, misses: 1 });
  });

  test("without a Gemini key the local reader answers alone, with no fallback reason", async () => {
    const reader = fallbackReader(undefined, localReader(gazetteer));
    const answer = await reader.read(await article());
    expect(answer).toMatchObject({ reader: "local", fallbackReason: null });
  });
});

describe("geminiReader naming companies", () => {
  test("answers the symbols of the companies an article is about, as the structured output gave them", async () => {
    const gemini = simulator({ companies });
    const reader = geminiReader({ apiKey: KEY, baseUrl: gemini.url, gazetteer, companies });
    for (const article of await companyArticles("MSFT")) {
      const answer = await reader.read(article);
      expect(answer.reader).toBe("gemini");
      expect(answer.reading.symbols).toEqual(readLocally(article, gazetteer, companies).symbols!);
      expect(answer.reading.symbols?.[0]).toBe("MSFT");
    }
  });

  test.each([
    ["an invented ticker is dropped", { symbols: ["MSFT", "ZZZZ"], entities: [] }, ["MSFT"]],
    [
      "a ticker in lower case or as a cashtag is the symbol",
      { symbols: ["msft", "$NVDA"], entities: [] },
      ["MSFT", "NVDA"],
    ],
    [
      "a company named only as an organisation entity becomes its symbol",
      { symbols: [], entities: [{ name: "Tesla", type: "organization" }] },
      ["TSLA"],
    ],
    [
      "symbols that are not strings are ignored, not fatal",
      { symbols: [42, null, "AAPL"], entities: [] },
      ["AAPL"],
    ],
    ["no symbols and no company entity is none", { symbols: undefined, entities: [] }, []],
  ])("validates the model's companies: %s", async (_name, change, symbols) => {
    const gemini = simulator({ companies, alterReading: (reading) => ({ ...reading, ...change }) });
    const reader = geminiReader({ apiKey: KEY, baseUrl: gemini.url, gazetteer, companies });
    const answer = await reader.read((await companyArticles("MSFT"))[0]!);
    expect(answer.reader).toBe("gemini");
    expect(answer.reading.symbols).toEqual(symbols);
  });
});
