import type { NewsArticle } from "../../../messages/news.ts";
import { CompanyDirectory } from "../../../sources/news/reader/company-directory.ts";
import { Gazetteer } from "../../../sources/news/reader/gazetteer.ts";
import { replayCorpusSource } from "../../../sources/news/replay-corpus.ts";
import { BERLIN_GRID } from "../../../sources/reference/city-districts.ts";
import { US_LARGE_CAPS } from "../../../sources/reference/symbol-metadata.ts";

/** the simulated city's districts, as the node's news uses them */
export const DISTRICTS = BERLIN_GRID.names.flat();
export const gazetteer = new Gazetteer(DISTRICTS);
export const FIXED_NOW = Date.parse("2026-11-30T12:00:00Z");

/** every article of the bundled corpus, for one district or all */
export async function corpusArticles(location?: string): Promise<NewsArticle[]> {
  const source = replayCorpusSource({ districts: DISTRICTS, now: () => FIXED_NOW });
  const all: NewsArticle[] = [];
  for (const district of location ? [location] : DISTRICTS) {
    const page = await source.search({ location: district, keywords: [], page: 1, pageSize: 100 });
    all.push(...page.articles);
  }
  return all;
}

/** the listed companies the node's news follows by default, as the readers know them */
export const companies = new CompanyDirectory(US_LARGE_CAPS);

/** every company article of the bundled corpus, for one symbol or all the directory knows */
export async function companyArticles(symbol?: string): Promise<NewsArticle[]> {
  const source = replayCorpusSource({
    districts: DISTRICTS,
    companies: companies.companies,
    now: () => FIXED_NOW,
  });
  const all: NewsArticle[] = [];
  for (const company of companies.companies.filter((c) => symbol === undefined || c.symbol === symbol)) {
    const query = { symbol: company.symbol, names: company.searchTerms };
    const page = await source.search({
      location: company.searchTerms[0]!,
      company: query,
      keywords: [],
      page: 1,
      pageSize: 100,
    });
    all.push(...page.articles);
  }
  return all;
}
