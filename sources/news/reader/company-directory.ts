import type { SymbolMetadataRecord } from "../../../messages/reference-data.ts";
import { fold } from "./gazetteer.ts";

/**
 * The listed companies a reader may name, as the gazetteer is for places: each symbol with the
 * names the news uses for it. A reader's symbols pass through it, so neither the local reader nor
 * Gemini can invent a company, and an entity Gemini calls "Microsoft" becomes MSFT.
 *
 * Names come from the symbol metadata (`Apple Inc.` gives `Apple Inc.` and, without its legal
 * suffix, `Apple`) plus the aliases below. A name that is also an everyday word ("Apple", "Visa",
 * "Meta") is ambiguous: in text it counts only written with its capital, and only in an article
 * that reads like business news (shares, earnings, Nasdaq...) or that was searched for that
 * company; a full name ("Apple Inc.", "Microsoft"), a ticker written as a cashtag ("$AAPL") or
 * in parentheses after a name ("(NASDAQ: AAPL)") always counts.
 */
export interface Company {
  readonly symbol: string;
  /** every name: the listed one, the short one, the aliases */
  readonly names: readonly string[];
  /** what to search the news for: the short name and the aliases, not the legal name */
  readonly searchTerms: readonly string[];
}

/** names the metadata does not give: brands, former names, common short forms */
const ALIASES: Readonly<Record<string, readonly string[]>> = {
  GOOGL: ["Google"],
  META: ["Meta Platforms", "Meta", "Facebook"],
  AMZN: ["Amazon"],
  NVDA: ["Nvidia"],
  "BRK.B": ["Berkshire"],
  JPM: ["JPMorgan", "JP Morgan"],
  UNH: ["UnitedHealth"],
  LLY: ["Eli Lilly", "Lilly"],
  XOM: ["ExxonMobil", "Exxon"],
  PG: ["Procter & Gamble", "P&G"],
  KO: ["Coca-Cola", "Coke"],
  HD: ["Home Depot"],
};

/** short names that are also words: they need a capital and a business context */
const AMBIGUOUS = new Set(["apple", "visa", "meta", "lilly", "coke", "alphabet", "target", "amazon"]);
const BUSINESS_CUES =
  /\b(shares?|stocks?|investors?|earnings|revenue|quarter(?:ly)?|nasdaq|nyse|s&p|dividend|analysts?|market value|profit|guidance|ceo|chief executive)\b/i;
const LEGAL_SUFFIX =
  /,?\s+(?:Inc\.?|Incorporated|Corporation|Corp\.?|Company|Co\.|Platforms,? Inc\.|Group Incorporated|Class [AB])$/i;

export class CompanyDirectory {
  readonly companies: readonly Company[];
  readonly #bySymbol = new Map<string, Company>();
  readonly #byName = new Map<string, string>();

  constructor(listings: readonly Pick<SymbolMetadataRecord, "symbol" | "name">[]) {
    const companies: Company[] = [];
    for (const listing of listings) {
      const names = [
        ...new Set([listing.name, shortNameOf(listing.name), ...(ALIASES[listing.symbol] ?? [])]),
      ]
        .map((n) => n.trim())
        .filter((n) => n.length > 1);
      const searchTerms = names.length > 1 ? names.slice(1, 4) : names;
      const company = { symbol: listing.symbol, names, searchTerms };
      companies.push(company);
      this.#bySymbol.set(listing.symbol, company);
      for (const name of names) this.#byName.set(fold(name), listing.symbol);
    }
    this.companies = companies;
  }

  company(symbol: string): Company | undefined {
    return this.#bySymbol.get(symbol);
  }

  /** the symbol a reader's answer names, as a ticker ("AAPL", "$aapl") or a company name */
  symbolOf(nameOrTicker: string): string | undefined {
    const ticker = nameOrTicker.trim().replace(/^\$/, "").toUpperCase();
    if (this.#bySymbol.has(ticker)) return ticker;
    return this.#byName.get(fold(nameOrTicker.trim()));
  }

  /** the symbols `text` is about, in order of first mention, each once */
  mentionedIn(text: string, searchedFor?: string): string[] {
    const found: { symbol: string; at: number }[] = [];
    const business = BUSINESS_CUES.test(text);
    for (const company of this.companies) {
      let first = Number.POSITIVE_INFINITY;
      for (const pattern of [`$${company.symbol}`, `: ${company.symbol})`]) {
        const at = wholeWordAt(text, pattern);
        if (at >= 0 && at < first) first = at;
      }
      for (const name of company.names) {
        const ambiguous = AMBIGUOUS.has(fold(name));
        if (ambiguous && !business && searchedFor !== company.symbol) continue;
        // an ambiguous name counts only as a proper noun (its capital), not as the word
        const at = ambiguous ? wholeWordAt(text, name) : wholeWordAt(fold(text), fold(name));
        if (at >= 0 && at < first) first = at;
      }
      if (first < Number.POSITIVE_INFINITY) found.push({ symbol: company.symbol, at: first });
    }
    return found.sort((a, b) => a.at - b.at).map((f) => f.symbol);
  }
}

function shortNameOf(name: string): string {
  let short = name.replace(/^The\s+/i, "");
  for (let i = 0; i < 2; i++) short = short.replace(LEGAL_SUFFIX, "");
  // "JPMorgan Chase & Co.", "Eli Lilly and Company": the joint goes with the suffix
  return short.replace(/(?:,|\s+&|\s+and)$/, "").trim();
}

/** index of `needle` in `haystack` as whole words, case as given */
function wholeWordAt(haystack: string, needle: string): number {
  let from = 0;
  for (;;) {
    const at = haystack.indexOf(needle, from);
    if (at < 0) return -1;
    const before = at === 0 ? "" : haystack[at - 1]!;
    const after = haystack[at + needle.length] ?? "";
    if (!/[\p{L}\p{N}]/u.test(before) && !/[\p{L}\p{N}]/u.test(after)) return at;
    from = at + 1;
  }
}
