import { describe, expect, test } from "bun:test";
import { companies } from "../news-fixture.ts";

describe("the company directory", () => {
  test.each([
    ["a full name", "Microsoft Corporation reported results.", undefined, ["MSFT"]],
    ["a short name in business news", "Apple shares rose after the earnings call.", undefined, ["AAPL"]],
    ["a cashtag and an exchange ticker", "$NVDA rallied; Visa (NYSE: V) slipped.", undefined, ["NVDA", "V"]],
    [
      "an everyday word is not a company",
      "The apple harvest was good and a visa office opened.",
      undefined,
      [],
    ],
    ["a capitalised word without business cues is not either", "Apple trees bloom in Pankow.", undefined, []],
    ["an article searched for the company allows its short name", "Apple opens a store.", "AAPL", ["AAPL"]],
    ["an alias", "Google and Facebook were fined.", undefined, ["GOOGL", "META"]],
    [
      "in order of first mention, each once",
      "Tesla, then Walmart, then Tesla again.",
      undefined,
      ["TSLA", "WMT"],
    ],
    ["not inside another word", "The Teslamobile parade", undefined, []],
  ])("finds companies: %s", (_name, text, searchedFor, symbols) => {
    expect(companies.mentionedIn(text, searchedFor)).toEqual(symbols);
  });

  test.each([
    ["a ticker", "MSFT", "MSFT"],
    ["a cashtag in lower case", "$aapl", "AAPL"],
    ["a name, any case", "microsoft", "MSFT"],
    ["the listed name", "The Coca-Cola Company", "KO"],
    ["an alias", "Facebook", "META"],
    ["an unknown company", "Acme Widgets", undefined],
    ["a ticker it does not follow", "ZZZZ", undefined],
  ])("maps a reader's %s to a symbol, or to none", (_name, named, symbol) => {
    expect(companies.symbolOf(named)).toBe(symbol);
  });

  test("searches a company by its short name and aliases, not its legal name", () => {
    expect(companies.company("GOOGL")?.searchTerms).toEqual(["Alphabet", "Google"]);
    expect(companies.company("JPM")?.searchTerms).toEqual(["JPMorgan Chase", "JPMorgan", "JP Morgan"]);
  });
});
