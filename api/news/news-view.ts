import { BoundedMap } from "../../messages/bounded-map.ts";
import type { LocationSentiment, NewsInsight } from "../../messages/news.ts";

/**
 * The API's read model of the news: the latest insights of each place (newest first, at most
 * `perLocation`) and each place's rolling sentiment. Bounded in places too: a flood of new
 * place names (a hostile source) evicts the place updated longest ago, never grows memory.
 */
export interface NewsViewOptions {
  readonly perLocation?: number;
  readonly maxLocations?: number;
}

interface PlaceNews {
  insights: NewsInsight[];
  sentiment: LocationSentiment | undefined;
}

export class NewsView {
  readonly #places: BoundedMap<string, PlaceNews>;
  readonly #perLocation: number;

  constructor(options: NewsViewOptions = {}) {
    this.#perLocation = options.perLocation ?? 100;
    this.#places = new BoundedMap(options.maxLocations ?? 1_000);
  }

  insight(insight: NewsInsight): void {
    const place = this.#touch(insight.location);
    // a repeat after a crash replaces the earlier answer for the same article
    place.insights = [insight, ...place.insights.filter((i) => i.article_id !== insight.article_id)];
    place.insights.sort((a, b) => b.published_at.localeCompare(a.published_at));
    if (place.insights.length > this.#perLocation) place.insights.length = this.#perLocation;
  }

  sentiment(sentiment: LocationSentiment): void {
    this.#touch(sentiment.location).sentiment = sentiment;
  }

  /** a place's insights newest first, or every place's merged; undefined for an unknown place */
  insights(location?: string): NewsInsight[] | undefined {
    if (location !== undefined) return this.#find(location)?.insights.slice();
    return [...this.#places.values()]
      .flatMap((p) => p.insights)
      .sort((a, b) => b.published_at.localeCompare(a.published_at));
  }

  sentiments(): LocationSentiment[] {
    return [...this.#places.values()].flatMap((p) => (p.sentiment ? [p.sentiment] : []));
  }

  locations(): string[] {
    return [...this.#places.keys()];
  }

  evictions(): number {
    return this.#places.evictions;
  }

  #find(location: string): PlaceNews | undefined {
    const exact = this.#places.get(location);
    if (exact) return exact;
    const lower = location.toLowerCase();
    for (const [name, place] of this.#places) if (name.toLowerCase() === lower) return place;
    return undefined;
  }

  #touch(location: string): PlaceNews {
    // updated now: the place updated longest ago is the one to go
    let place = this.#places.touch(location);
    if (!place) {
      place = { insights: [], sentiment: undefined };
      this.#places.set(location, place);
    }
    return place;
  }
}
