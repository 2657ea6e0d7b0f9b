import type { ArticleReading, NewsArticle } from "../../../messages/news.ts";

/**
 * The ArticleReader port: what a reader makes of one article (summary, sentiment, entities, the
 * districts it is about). Two adapters: `gemini-reader.ts` (Gemini through @google/genai, with
 * an agentic search for context) and `local-reader.ts` (deterministic, offline);
 * `fallback-reader.ts` puts the local one behind Gemini.
 */
export interface ReaderAnswer {
  readonly reading: ArticleReading;
  readonly reader: "gemini" | "local";
  readonly model: string | null;
  /** follow-up searches the reader made for context */
  readonly followUpQueries: readonly string[];
  readonly tokens: number;
  /** why a fallback reader answered, when one did */
  readonly fallbackReason: string | null;
}

export interface ArticleReader {
  readonly name: string;
  read(article: NewsArticle, signal?: AbortSignal): Promise<ReaderAnswer>;
}

/** the text a reader works on: title, description and body, without NewsAPI's "[+123 chars]" */
export function articleText(article: Pick<NewsArticle, "title" | "description" | "content">): string {
  const body = (article.content ?? "").replace(/\s*\[\+\d+ chars\]\s*$/, "");
  return [article.title, article.description ?? "", body]
    .filter((part) => part.trim().length > 0)
    .join("\n\n");
}
