/**
 * A desk's rolling news sentiment: an exponentially weighted mean over its articles in the order
 * they arrive (the newest weighs `weight`), with the count it rests on and the newest article's
 * time; and the bounded memory of article ids that keeps one story from counting twice. Shared by
 * the place desks and the symbol desks, plain data for the changelog.
 */
export interface RollingSentiment {
  lastOffset: number;
  /** ids of the articles taken last, oldest first (bounded) */
  recentIds: string[];
  articles: number;
  sentiment: number;
  lastArticleAt: string | null;
}

export const freshSentiment = (): RollingSentiment => ({
  lastOffset: -1,
  recentIds: [],
  articles: 0,
  sentiment: 0,
  lastArticleAt: null,
});

export const copySentiment = <S extends RollingSentiment>(state: S): S => ({
  ...state,
  recentIds: [...state.recentIds],
});

/** false when the article was taken already (same id); otherwise remembers it */
export function rememberArticle(state: RollingSentiment, id: string, capacity: number): boolean {
  if (state.recentIds.includes(id)) return false;
  state.recentIds.push(id);
  if (state.recentIds.length > capacity) state.recentIds.splice(0, state.recentIds.length - capacity);
  return true;
}

/** folds one article's score in; answers the rounded sentiment to publish */
export function rollSentiment(
  state: RollingSentiment,
  score: number,
  publishedAt: string,
  weight: number,
): number {
  state.sentiment = state.articles === 0 ? score : weight * score + (1 - weight) * state.sentiment;
  state.articles++;
  if (state.lastArticleAt === null || publishedAt > state.lastArticleAt) state.lastArticleAt = publishedAt;
  return Math.round(state.sentiment * 1000) / 1000;
}
