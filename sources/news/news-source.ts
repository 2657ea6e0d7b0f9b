import { createHash } from "node:crypto";
import type { NewsArticle, NewsProvider } from "../../messages/news.ts";

/**
 * The NewsSource port: search one provider for articles about a place. Adapters sit beside it
 * (`newsapi.ts`, `gdelt.ts`, `replay-corpus.ts`) and `news-chain.ts` tries them in order.
 *
 * An adapter answers a page of validated articles, or throws a PlatformError:
 *   SOURCE_UNAUTHORIZED   no key, or the key was refused   -> the chain hands over for good
 *   RATE_LIMITED          429 / quota (details.retryAfterMs) -> hands over until then
 *   SOURCE_UNAVAILABLE    network, 5xx, timeout, bad answer  -> hands over, retried with back-off
 * It never puts its key in an error message or a log line.
 */
export interface NewsQuery {
  /** the place to search for (a district or the city), or a company's name with `company` */
  readonly location: string;
  /**
   * a listed company to search for instead of a place: the provider searches any of its names
   * (and ignores `keywords`, which are the city's), and the articles carry its symbol
   */
  readonly company?: { readonly symbol: string; readonly names: readonly string[] };
  /** extra terms (traffic, air quality, ...), ANDed with the place by the provider */
  readonly keywords: readonly string[];
  /** only articles published at or after this time (ms since epoch) */
  readonly from?: number;
  /** 1-based page */
  readonly page: number;
  readonly pageSize: number;
}

export interface NewsPage {
  readonly articles: readonly NewsArticle[];
  /** items of the answer that are not valid articles, with why (they become dead letters) */
  readonly rejected: readonly RejectedItem[];
  /** the next page to ask for, when the provider has more */
  readonly nextPage: number | undefined;
}

export interface RejectedItem {
  readonly reason: string;
  /** the item as the provider sent it, cut to a few KiB */
  readonly raw: string;
}

export interface NewsSource {
  readonly name: NewsProvider;
  search(query: NewsQuery, signal?: AbortSignal): Promise<NewsPage>;
}

/**
 * An article's identity: the first 128 bits of SHA-256 over its normalised URL (scheme and host
 * lower-cased, fragment and tracking parameters dropped, trailing slash removed), so one story
 * reached through two sources or two polls is one article.
 */
export function articleIdOf(url: string): string {
  return createHash("sha256").update(normaliseUrl(url)).digest("hex").slice(0, 32);
}

const TRACKING_PARAMETER = /^(utm_|fbclid$|gclid$|mc_)/;

export function normaliseUrl(url: string): string {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    // not a URL: hash the trimmed text itself (the schema refuses such articles later)
    return url.trim();
  }
  parsed.hash = "";
  for (const name of [...parsed.searchParams.keys()])
    if (TRACKING_PARAMETER.test(name)) parsed.searchParams.delete(name);
  parsed.searchParams.sort();
  const path = parsed.pathname.length > 1 ? parsed.pathname.replace(/\/+$/, "") : parsed.pathname;
  return `${parsed.protocol}//${parsed.host.toLowerCase()}${path}${parsed.search}`;
}

/** An item that did not make a valid article, kept short for its dead letter. */
export function rejectedItem(item: unknown, reason: string): RejectedItem {
  let raw: string;
  try {
    raw = JSON.stringify(item) ?? String(item);
  } catch (error) {
    raw = `unserialisable item: ${error instanceof Error ? error.message : String(error)}`;
  }
  return { reason: reason.slice(0, 500), raw: raw.slice(0, 4_096) };
}
