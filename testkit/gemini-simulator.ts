import type { CompanyDirectory } from "../sources/news/reader/company-directory.ts";
import type { Gazetteer } from "../sources/news/reader/gazetteer.ts";
import { readLocally } from "../sources/news/reader/local-reader.ts";

/**
 * A local server that speaks the part of the Gemini REST API the platform uses
 * (`POST /v1beta/models/{model}:generateContent`, also under `/v1`), so the official SDK is
 * tested unchanged through its `httpOptions.baseUrl`:
 *   - the key in `x-goog-api-key`; a wrong one gets Google's 400 INVALID_ARGUMENT / API_KEY_INVALID
 *   - function calling: with `tools` and no function response yet, it asks `search_news` once
 *     (when `asksForSearch`), for "<location> news"
 *   - structured output: with `responseSchema`, a JSON reading (computed by the local reader, so
 *     tests know what Gemini "said"; with `companies`, the tickers of the companies it names),
 *     or broken JSON when `answers: "invalid"`
 *   - failures on demand: `failNext(n, status)` answers n requests with that status (429 is
 *     RESOURCE_EXHAUSTED, as Google sends it)
 *   - the LLM sensor generator's prompts are answered with the typical reading they show
 *   - usageMetadata with token counts (characters / 4)
 */
export interface GeminiSimulatorOptions {
  readonly apiKey: string;
  readonly gazetteer: Gazetteer;
  /** the companies its readings name (by ticker, as the reader's schema asks) */
  readonly companies?: CompanyDirectory;
  readonly asksForSearch?: boolean;
  readonly answers?: "reading" | "invalid";
  /** changes the reading before it is sent (a model that invents, misspells or omits) */
  readonly alterReading?: (reading: Record<string, unknown>) => Record<string, unknown>;
}

export interface GeminiRequestSeen {
  readonly model: string;
  readonly withTools: boolean;
  readonly structured: boolean;
  readonly functionResponses: number;
}

export interface GeminiSimulator {
  readonly url: string;
  readonly requests: GeminiRequestSeen[];
  failNext(count: number, status: number): void;
  stop(): Promise<void>;
}

const PATH = /^\/v1(?:beta)?\/models\/([\w.-]+):generateContent$/;
const STATUS_NAMES: Record<number, string> = {
  400: "INVALID_ARGUMENT",
  403: "PERMISSION_DENIED",
  429: "RESOURCE_EXHAUSTED",
  500: "INTERNAL",
  503: "UNAVAILABLE",
};

interface GenerateRequest {
  contents?: { role?: string; parts?: { text?: string; functionResponse?: unknown }[] }[];
  tools?: unknown[];
  generationConfig?: { responseSchema?: unknown; responseJsonSchema?: unknown };
}

export function startGeminiSimulator(options: GeminiSimulatorOptions): GeminiSimulator {
  const requests: GeminiRequestSeen[] = [];
  let failures: { count: number; status: number } = { count: 0, status: 500 };
  const googleError = (status: number, message: string, reason?: string) =>
    Response.json(
      {
        error: {
          code: status,
          message,
          status: STATUS_NAMES[status] ?? "UNKNOWN",
          ...(reason ? { details: [{ "@type": "type.googleapis.com/google.rpc.ErrorInfo", reason }] } : {}),
        },
      },
      { status },
    );
  const server = Bun.serve({
    hostname: "127.0.0.1",
    port: 0,
    maxRequestBodySize: 1024 * 1024,
    async fetch(request) {
      const match = PATH.exec(new URL(request.url).pathname);
      if (request.method !== "POST" || !match) return googleError(404, "not found");
      if (request.headers.get("x-goog-api-key") !== options.apiKey)
        return googleError(400, "API key not valid. Please pass a valid API key.", "API_KEY_INVALID");
      if (failures.count > 0) {
        failures = { ...failures, count: failures.count - 1 };
        return googleError(failures.status, "simulated failure");
      }
      let body: GenerateRequest;
      try {
        body = (await request.json()) as GenerateRequest;
      } catch {
        return googleError(400, "Invalid JSON payload received.");
      }
      const contents = Array.isArray(body.contents) ? body.contents : [];
      const parts = contents.flatMap((c) => (Array.isArray(c.parts) ? c.parts : []));
      const functionResponses = parts.filter((p) => p.functionResponse !== undefined).length;
      const withTools = Array.isArray(body.tools) && body.tools.length > 0;
      const structured =
        body.generationConfig?.responseSchema !== undefined ||
        body.generationConfig?.responseJsonSchema !== undefined;
      requests.push({ model: match[1]!, withTools, structured, functionResponses });
      const prompt = parts[0]?.text ?? "";
      const [, location = "the city"] = /^Article about (.+?):/.exec(prompt) ?? [];
      const promptTokens = Math.ceil(JSON.stringify(contents).length / 4);
      const reply = (part: Record<string, unknown>, text: string) =>
        Response.json({
          candidates: [{ content: { role: "model", parts: [part] }, finishReason: "STOP", index: 0 }],
          usageMetadata: {
            promptTokenCount: promptTokens,
            candidatesTokenCount: Math.ceil(text.length / 4),
            totalTokenCount: promptTokens + Math.ceil(text.length / 4),
          },
          modelVersion: match[1],
        });
      // the LLM sensor generator's prompt: answer the typical reading it shows (a valid reading)
      const typical = prompt.indexOf("A typical reading: ");
      if (typical >= 0) {
        const text = prompt.slice(typical + "A typical reading: ".length);
        return reply({ text }, text);
      }
      if (withTools && functionResponses === 0 && options.asksForSearch)
        return reply(
          { functionCall: { name: "search_news", args: { query: `${location} news` } } },
          location,
        );
      if (!structured) return reply({ text: "I have enough context." }, "I have enough context.");
      if (options.answers === "invalid") return reply({ text: '{"summary": ' }, '{"summary": ');
      const [title = "", ...rest] = prompt.replace(/^Article about .+?:\n\n/, "").split("\n\n");
      const reading = readLocally(
        { title, description: null, content: rest.join(" ") },
        options.gazetteer,
        options.companies,
      );
      const text = JSON.stringify(options.alterReading ? options.alterReading({ ...reading }) : reading);
      return reply({ text }, text);
    },
  });
  return {
    url: `http://127.0.0.1:${server.port}`,
    requests,
    failNext(count, status) {
      failures = { count, status };
    },
    async stop() {
      await server.stop(true);
    },
  };
}
