import { ApiError, type Content, GoogleGenAI, type Part, Type } from "@google/genai";
import { ErrorCodes, PlatformError } from "../../../messages/errors.ts";
import { ArticleReading, ENTITY_TYPES, type NewsArticle, SENTIMENT_LABELS } from "../../../messages/news.ts";
import { type ArticleReader, articleText, type ReaderAnswer } from "./article-reader.ts";
import type { CompanyDirectory } from "./company-directory.ts";
import type { Gazetteer } from "./gazetteer.ts";

/**
 * Gemini reads an article through the official SDK (@google/genai), in two steps:
 *
 * 1. Agentic search. The model gets the article and one tool, `search_news(query)`. When the
 *    article lacks context about its place (who, what happened before), it asks for searches;
 *    each is run against the node's news sources and the top results go back to it as the
 *    function's response. This repeats within a budget of model calls and tokens
 *    (`budget`), so a chatty model cannot spend without bound.
 * 2. Structured answer. A last call without tools asks for the reading as JSON under a response
 *    schema (Gemini's structured output). The JSON is validated with the same zod schema the
 *    local reader's answers meet; district names are kept only when the gazetteer knows them,
 *    and the companies (the model's `symbols`, and the organisations among its entities) only
 *    when the company directory knows them, as their symbols.
 *
 * Failures come out as the port's codes (RATE_LIMITED on 429 / RESOURCE_EXHAUSTED,
 * SOURCE_UNAUTHORIZED on 401/403, SOURCE_UNAVAILABLE otherwise, LLM_OUTPUT_INVALID for an
 * answer that is not the schema), for the fallback reader to act on. The key is given to the SDK,
 * which sends it in a header; no message here names it.
 */
export interface GeminiReaderOptions {
  readonly apiKey: string;
  /** default gemini-2.5-flash */
  readonly model?: string;
  /** the API's address; default Google's. Tests point it at a local Gemini-speaking server. */
  readonly baseUrl?: string;
  readonly gazetteer: Gazetteer;
  /** the listed companies the model may name; without it the answer names none */
  readonly companies?: CompanyDirectory;
  /** follow-up searches for context; without it the model gets no tool */
  readonly search?: (query: string, signal?: AbortSignal) => Promise<readonly NewsArticle[]>;
  readonly budget?: Partial<GeminiBudget>;
  readonly timeoutMs?: number;
}

export interface GeminiBudget {
  /** model calls per article, the final structured one included */
  readonly maxCalls: number;
  /** total tokens (prompt + answer, as the API counts them) per article */
  readonly maxTokens: number;
  /** search results handed back to the model per search */
  readonly resultsPerSearch: number;
}

export const DEFAULT_GEMINI_BUDGET: GeminiBudget = { maxCalls: 4, maxTokens: 16_000, resultsPerSearch: 5 };
export const DEFAULT_GEMINI_MODEL = "gemini-2.5-flash";

const SEARCH_TOOL = {
  name: "search_news",
  description:
    "Search recent local news for more context about a place or event in the article. Returns titles and short descriptions.",
  parametersJsonSchema: {
    type: "object",
    properties: { query: { type: "string", description: "what to search for, a few words" } },
    required: ["query"],
  },
};

const READING_SCHEMA = {
  type: Type.OBJECT,
  properties: {
    summary: { type: Type.STRING, description: "two or three sentences" },
    sentiment: {
      type: Type.OBJECT,
      properties: {
        score: { type: Type.NUMBER, description: "-1 very negative .. 1 very positive" },
        label: { type: Type.STRING, enum: [...SENTIMENT_LABELS] },
      },
      required: ["score", "label"],
    },
    entities: {
      type: Type.ARRAY,
      items: {
        type: Type.OBJECT,
        properties: { name: { type: Type.STRING }, type: { type: Type.STRING, enum: [...ENTITY_TYPES] } },
        required: ["name", "type"],
      },
    },
    locations: { type: Type.ARRAY, items: { type: Type.STRING } },
    symbols: {
      type: Type.ARRAY,
      items: { type: Type.STRING },
      description: "ticker symbols of the listed companies the article is about (only from the list)",
    },
  },
  required: ["summary", "sentiment", "entities", "locations", "symbols"],
};

export function geminiReader(options: GeminiReaderOptions): ArticleReader {
  const model = options.model ?? DEFAULT_GEMINI_MODEL;
  const budget = { ...DEFAULT_GEMINI_BUDGET, ...options.budget };
  const client = new GoogleGenAI({
    apiKey: options.apiKey,
    ...(options.baseUrl ? { httpOptions: { baseUrl: options.baseUrl } } : {}),
  });
  const systemInstruction = [
    "You read local news for a city's operations team.",
    `The city's districts are: ${options.gazetteer.places.join(", ")}.`,
    "Summarise the article in two or three sentences, rate its sentiment for the people living there,",
    "list the people, organisations, locations and events it names, and the districts it is about (only from the list).",
    options.companies
      ? `Listed companies, by ticker: ${options.companies.companies.map((c) => `${c.symbol} (${c.searchTerms[0]})`).join(", ")}; give the tickers of those the article is about (only from this list).`
      : "",
    options.search
      ? "If the article lacks context about the place or the event, call search_news; otherwise answer directly."
      : "",
  ].join(" ");

  return {
    name: "gemini",
    async read(article: NewsArticle, signal?: AbortSignal): Promise<ReaderAnswer> {
      const abortSignal = AbortSignal.any([
        AbortSignal.timeout(options.timeoutMs ?? 30_000),
        ...(signal ? [signal] : []),
      ]);
      const contents: Content[] = [
        { role: "user", parts: [{ text: `Article about ${article.location}:\n\n${articleText(article)}` }] },
      ];
      const followUpQueries: string[] = [];
      let calls = 0;
      let tokens = 0;
      const generate = async (config: Record<string, unknown>) => {
        calls++;
        try {
          const response = await client.models.generateContent({
            model,
            contents,
            config: { systemInstruction, abortSignal, ...config },
          });
          tokens += response.usageMetadata?.totalTokenCount ?? 0;
          return response;
        } catch (error) {
          throw portError(error);
        }
      };

      // 1. agentic search, leaving one call and a quarter of the tokens for the answer
      while (options.search && calls < budget.maxCalls - 1 && tokens < budget.maxTokens * 0.75) {
        const response = await generate({ tools: [{ functionDeclarations: [SEARCH_TOOL] }] });
        const functionCalls = response.functionCalls ?? [];
        const modelTurn = response.candidates?.[0]?.content;
        if (functionCalls.length === 0 || !modelTurn) break;
        contents.push(modelTurn);
        const answers: Part[] = [];
        for (const call of functionCalls.slice(0, 3)) {
          const query = typeof call.args?.query === "string" ? call.args.query.slice(0, 200).trim() : "";
          if (call.name !== SEARCH_TOOL.name || query.length === 0) {
            answers.push({
              functionResponse: {
                name: call.name ?? "unknown",
                response: { error: "unknown tool or empty query" },
              },
            });
            continue;
          }
          followUpQueries.push(query);
          const found = await options.search(query, abortSignal);
          answers.push({
            functionResponse: {
              name: SEARCH_TOOL.name,
              response: {
                articles: found.slice(0, budget.resultsPerSearch).map((a) => ({
                  title: a.title,
                  description: (a.description ?? "").slice(0, 500),
                  published_at: a.published_at,
                })),
              },
            },
          });
        }
        contents.push({ role: "user", parts: answers });
      }

      // 2. the structured answer
      contents.push({ role: "user", parts: [{ text: "Answer now with the reading as JSON." }] });
      const response = await generate({
        responseMimeType: "application/json",
        responseSchema: READING_SCHEMA,
      });
      const reading = validReading(response.text ?? "", options.gazetteer, options.companies);
      return { reading, reader: "gemini", model, followUpQueries, tokens, fallbackReason: null };
    },
  };
}

function validReading(text: string, gazetteer: Gazetteer, companies?: CompanyDirectory): ArticleReading {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (cause) {
    throw new PlatformError(ErrorCodes.LLM_OUTPUT_INVALID, "gemini answered text that is not JSON", {
      cause,
    });
  }
  // the model's symbols are claims to check against the directory, not a format to refuse for
  const answer = json !== null && typeof json === "object" ? (json as Record<string, unknown>) : {};
  const claimed = Array.isArray(answer.symbols)
    ? answer.symbols.filter((s): s is string => typeof s === "string").slice(0, 50)
    : [];
  const parsed = ArticleReading.safeParse(
    json !== null && typeof json === "object" ? { ...answer, symbols: undefined } : json,
  );
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new PlatformError(
      ErrorCodes.LLM_OUTPUT_INVALID,
      `gemini's answer does not match the reading schema at ${issue?.path.join(".") || "(root)"}: ${issue?.message}`,
    );
  }
  const locations = [...new Set(parsed.data.locations.flatMap((name) => gazetteer.canonical(name) ?? []))];
  // entities -> symbols: a ticker or a company name the directory knows, never an invented one
  const named = [
    ...claimed,
    ...parsed.data.entities.filter((e) => e.type === "organization").map((e) => e.name),
  ];
  const symbols = companies
    ? [...new Set(named.flatMap((name) => companies.symbolOf(name) ?? []))].slice(0, 20)
    : [];
  return { ...parsed.data, locations, symbols };
}

function portError(error: unknown): PlatformError {
  if (error instanceof ApiError) {
    if (error.status === 429)
      return new PlatformError(ErrorCodes.RATE_LIMITED, "gemini quota or rate limit reached (429)", {
        details: { retryAfterMs: 60_000 },
      });
    // Google answers a wrong key with 400 INVALID_ARGUMENT, reason API_KEY_INVALID
    if (error.status === 401 || error.status === 403 || error.message.includes("API_KEY_INVALID"))
      return new PlatformError(ErrorCodes.SOURCE_UNAUTHORIZED, `gemini refused the key (${error.status})`);
    return new PlatformError(ErrorCodes.SOURCE_UNAVAILABLE, `gemini answered ${error.status}`);
  }
  if (error instanceof PlatformError) return error;
  const name = error instanceof Error ? error.name : "error";
  return new PlatformError(ErrorCodes.SOURCE_UNAVAILABLE, `gemini did not answer (${name})`, {
    cause: error,
  });
}
