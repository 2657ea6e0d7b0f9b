import type { ArticleReading, NewsArticle } from "../../../messages/news.ts";
import { type ArticleReader, articleText, type ReaderAnswer } from "./article-reader.ts";
import type { CompanyDirectory } from "./company-directory.ts";
import { fold, type Gazetteer } from "./gazetteer.ts";
import lexicon from "./sentiment-lexicon.json" with { type: "json" };

/**
 * The offline reader: the same answer shape as Gemini's, computed deterministically, so the
 * platform reads news with no key, no network and no quota, and tests can say exactly what it
 * answers.
 *   summary    extractive: the two sentences with the most frequent content words (the lead
 *              sentence gets a bonus, as news is written top-down), in their original order
 *   sentiment  lexicon scores (AFINN-style, `sentiment-lexicon.json`) summed with negation
 *              flipping the next three words, normalised to -1..1 as VADER does: s / sqrt(s² + 15)
 *   entities   districts from the gazetteer; institutions ("the environment agency") and titled
 *              persons ("Mayor Lena Vogel") by pattern
 *   locations  the districts the text mentions
 *   symbols    the listed companies the text names (company-directory.ts), an article searched
 *              for a company allowing its everyday-word names ("Apple") without business cues
 */
const NORMALISATION_ALPHA = 15;
const NEUTRAL_BAND = 0.05;
const SUMMARY_SENTENCES = 2;
const STOPWORDS = new Set(
  "a an and are as at be been but by for from had has have he her his in into is it its of on or our said says she that the their them there they this to was were which who will with would after before about more than also over under up out not no".split(
    " ",
  ),
);
const SCORES = new Map(Object.entries(lexicon.scores));
const PHRASES = [...SCORES.keys()].filter((k) => k.includes(" "));
const NEGATORS = new Set(lexicon.negators);
const INSTITUTION =
  /\b(?:the\s+)((?:[\p{L}-]+\s+){0,2}(?:council|agency|department|brigade|police|operator|utility|office|ministry|authority|centre|center|company|association|union))\b/giu;
const TITLED_PERSON =
  /\b(?:Mayor|Minister|Senator|Councillor|Dr\.|Mr\.|Ms\.|Mrs\.)\s+(\p{Lu}\p{Ll}+(?:\s+\p{Lu}\p{Ll}+)?)/gu;

export function localReader(gazetteer: Gazetteer, companies?: CompanyDirectory): ArticleReader {
  return {
    name: "local",
    async read(article: NewsArticle): Promise<ReaderAnswer> {
      return {
        reading: readLocally(article, gazetteer, companies),
        reader: "local",
        model: null,
        followUpQueries: [],
        tokens: 0,
        fallbackReason: null,
      };
    },
  };
}

export function readLocally(
  article: Pick<NewsArticle, "title" | "description" | "content"> & { symbol?: string | undefined },
  gazetteer: Gazetteer,
  companies?: CompanyDirectory,
): ArticleReading {
  const text = articleText(article);
  const score = sentimentOf(text);
  const locations = gazetteer.mentionedIn(text);
  const symbols = companies ? companies.mentionedIn(text, article.symbol).slice(0, 20) : [];
  const entities = entitiesOf(text, locations);
  for (const symbol of symbols) {
    const name = companies?.company(symbol)?.searchTerms[0];
    if (name && entities.length < 50 && !entities.some((e) => fold(e.name) === fold(name)))
      entities.push({ name, type: "organization" });
  }
  return {
    summary: summaryOf(article, text),
    sentiment: {
      score,
      label: score > NEUTRAL_BAND ? "positive" : score < -NEUTRAL_BAND ? "negative" : "neutral",
    },
    entities,
    locations,
    symbols,
  };
}

export function sentimentOf(text: string): number {
  let folded = ` ${fold(text).replace(/[^\p{L}\p{N}\s-]/gu, " ")} `;
  let sum = 0;
  // phrases first, then take them out so their words do not count again
  for (const phrase of PHRASES) {
    const needle = ` ${phrase} `;
    let at = folded.indexOf(needle);
    while (at >= 0) {
      sum += SCORES.get(phrase) ?? 0;
      folded = `${folded.slice(0, at)} ${folded.slice(at + needle.length - 1)}`;
      at = folded.indexOf(needle);
    }
  }
  const words = folded.split(/\s+/).filter((w) => w.length > 0);
  let negatedFor = 0;
  for (const word of words) {
    if (NEGATORS.has(word)) {
      negatedFor = 3;
      continue;
    }
    const value = SCORES.get(word);
    if (value !== undefined) sum += negatedFor > 0 ? -value : value;
    if (negatedFor > 0) negatedFor--;
  }
  const normalised = sum / Math.sqrt(sum * sum + NORMALISATION_ALPHA);
  return Math.round(normalised * 1000) / 1000;
}

function summaryOf(article: Pick<NewsArticle, "title" | "description" | "content">, text: string): string {
  const body = [article.description ?? "", article.content ?? ""].join(" ").trim();
  const sentences = splitSentences(body.length > 0 ? body : text);
  if (sentences.length <= SUMMARY_SENTENCES) return cap(sentences.join(" ") || article.title);
  const frequency = new Map<string, number>();
  for (const word of contentWords(body)) frequency.set(word, (frequency.get(word) ?? 0) + 1);
  const scored = sentences.map((sentence, index) => {
    const words = contentWords(sentence);
    const weight = words.reduce((sum, w) => sum + (frequency.get(w) ?? 0), 0) / Math.sqrt(words.length || 1);
    return { index, sentence, weight: index === 0 ? weight * 1.5 : weight };
  });
  // two sentences with the same words (description and body often repeat) count once
  const chosen: typeof scored = [];
  for (const candidate of [...scored].sort((a, b) => b.weight - a.weight || a.index - b.index)) {
    if (chosen.some((c) => fold(c.sentence) === fold(candidate.sentence))) continue;
    chosen.push(candidate);
    if (chosen.length === SUMMARY_SENTENCES) break;
  }
  return cap(
    chosen
      .sort((a, b) => a.index - b.index)
      .map((c) => c.sentence)
      .join(" "),
  );
}

function entitiesOf(text: string, locations: readonly string[]): ArticleReading["entities"] {
  const entities = new Map<string, ArticleReading["entities"][number]>();
  const add = (name: string, type: ArticleReading["entities"][number]["type"]) => {
    const key = fold(name);
    if (!entities.has(key) && entities.size < 50) entities.set(key, { name: name.slice(0, 200), type });
  };
  for (const place of locations) add(place, "location");
  for (const match of text.matchAll(TITLED_PERSON)) add(match[1]!, "person");
  for (const match of text.matchAll(INSTITUTION)) add(titleCase(match[1]!), "organization");
  return [...entities.values()];
}

const splitSentences = (text: string) =>
  text
    .split(/(?<=[.!?])\s+/)
    .map((s) => s.trim())
    .filter((s) => s.length > 0);
const contentWords = (text: string) =>
  fold(text)
    .split(/[^\p{L}\p{N}]+/u)
    .filter((w) => w.length > 3 && !STOPWORDS.has(w));
const titleCase = (text: string) =>
  text.replace(/(^|\s)(\p{Ll})/gu, (_m, space: string, c: string) => space + c.toUpperCase());
const cap = (text: string) => (text.length > 2_000 ? `${text.slice(0, 1_997)}...` : text);
