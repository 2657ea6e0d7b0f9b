import type { SensorReading } from "../../messages/sensor-reading.ts";
import { SensorReading as SensorReadingSchema } from "../../messages/sensor-reading.ts";
import type { SensorFleet } from "./sensor-fleet.ts";

/**
 * Optional LLM-written readings, as in the original design (section 2.1, Gemini). Only when
 * GEMINI_API_KEY is set is "@google/genai" imported (dynamically, so the package need not be
 * installed otherwise). Each call asks for a few readings of real fleet sensors at the given
 * time; every answer is validated with the reading schema and must name the sensor and type it
 * was asked for, else the simulator's reading is used and the fallback counted. Without a key
 * this is exactly the simulator. The key is passed to the client and never logged or reported.
 */
export type TextGenerator = (prompt: string) => Promise<string>;

export interface LlmReadingGeneratorOptions {
  readonly fleet: SensorFleet;
  readonly env?: Readonly<Record<string, string | undefined>>;
  /** default "gemini-2.0-flash", the original design's */
  readonly model?: string;
  /** the Gemini API's address (GEMINI_BASE_URL); default Google's */
  readonly baseUrl?: string;
  /** how many of each sweep's readings the LLM writes; default 1 */
  readonly llmReadingsPerCall?: number;
  /** how to reach the LLM; default: @google/genai. Tests inject their own. */
  readonly loadGenerator?: (apiKey: string, model: string, baseUrl?: string) => Promise<TextGenerator>;
}

export interface LlmGeneratorStats {
  readonly mode: "llm" | "simulator";
  readonly llmReadings: number;
  readonly fallbacks: number;
  readonly lastFallbackReason: string | undefined;
}

export interface LlmReadingGenerator {
  readonly mode: "llm" | "simulator";
  /** the LLM's reading for the sensor and time of `simulated`, or `simulated` itself on any failure */
  rewrite(simulated: SensorReading): Promise<SensorReading>;
  /** the fleet's sweep at `time`, with some readings written by the LLM when a key is set */
  readingsAt(time: number): Promise<SensorReading[]>;
  stats(): LlmGeneratorStats;
}

const GENAI_MODULE = "@google/genai";

async function loadGemini(apiKey: string, model: string, baseUrl?: string): Promise<TextGenerator> {
  // a variable specifier keeps bundlers and tsc from resolving a package that may be absent
  const genai = (await import(GENAI_MODULE)) as {
    GoogleGenAI: new (o: {
      apiKey: string;
      httpOptions?: { baseUrl: string };
    }) => {
      models: {
        generateContent(r: { model: string; contents: string; config?: object }): Promise<{ text?: string }>;
      };
    };
  };
  const client = new genai.GoogleGenAI({ apiKey, ...(baseUrl ? { httpOptions: { baseUrl } } : {}) });
  return async (prompt) => {
    const response = await client.models.generateContent({
      model,
      contents: prompt,
      config: { responseMimeType: "application/json" },
    });
    return response.text ?? "";
  };
}

export function promptFor(reading: SensorReading): string {
  const { type, sensor_id, timestamp } = reading;
  const fields = {
    traffic: "vehicle_count (integer >= 0), avg_speed (km/h, float), location {lat, lon}",
    environment: "temperature (°C, float), humidity (% 0-100), air_quality_index (integer 0-500)",
    utility: "consumption (W, float), voltage (V, float near 230), current (A, float)",
  }[type];
  return (
    `Generate one realistic JSON IoT reading of a ${type} sensor in a European city. ` +
    `Use exactly "type": "${type}", "sensor_id": "${sensor_id}", "timestamp": "${timestamp}", ` +
    `and the fields ${fields}. Reply with the JSON object only. A typical reading: ${JSON.stringify(reading)}`
  );
}

export function createLlmReadingGenerator(options: LlmReadingGeneratorOptions): LlmReadingGenerator {
  const env = options.env ?? process.env;
  const apiKey = env.GEMINI_API_KEY?.trim();
  const mode = apiKey ? "llm" : "simulator";
  const perCall = options.llmReadingsPerCall ?? 1;
  const counts = { llmReadings: 0, fallbacks: 0, lastFallbackReason: undefined as string | undefined };
  let generator: Promise<TextGenerator> | undefined;
  let cursor = 0;

  const fallBack = (reason: string) => {
    counts.fallbacks++;
    // reasons come from our own checks and error names, never from the key
    counts.lastFallbackReason = apiKey ? reason.split(apiKey).join("[redacted]") : reason;
  };

  async function viaLlm(simulated: SensorReading): Promise<SensorReading> {
    let text: string;
    try {
      generator ??= (options.loadGenerator ?? loadGemini)(
        apiKey!,
        options.model ?? "gemini-2.0-flash",
        options.baseUrl ?? env.GEMINI_BASE_URL,
      );
      text = await (await generator)(promptFor(simulated));
    } catch (error) {
      fallBack(`LLM unavailable: ${(error as Error).message ?? String(error)}`);
      return simulated;
    }
    let json: unknown;
    try {
      json = JSON.parse(text.replace(/^```(?:json)?\s*|\s*```$/g, ""));
    } catch {
      fallBack("LLM output is not JSON");
      return simulated;
    }
    const parsed = SensorReadingSchema.safeParse(json);
    if (!parsed.success) {
      fallBack(
        `LLM output fails the schema: ${parsed.error.issues[0]?.path.join(".")} ${parsed.error.issues[0]?.message}`,
      );
      return simulated;
    }
    const r = parsed.data;
    if (
      r.type !== simulated.type ||
      r.sensor_id !== simulated.sensor_id ||
      r.timestamp !== simulated.timestamp
    ) {
      fallBack(`LLM answered for ${r.type}/${r.sensor_id}@${r.timestamp}, not the sensor asked for`);
      return simulated;
    }
    counts.llmReadings++;
    return r;
  }

  return {
    mode,
    rewrite: (simulated) => (mode === "simulator" ? Promise.resolve(simulated) : viaLlm(simulated)),
    async readingsAt(time) {
      const readings = options.fleet.readingsAt(time);
      if (mode === "simulator" || readings.length === 0) return readings;
      const picks = Math.min(perCall, readings.length);
      const replaced = await Promise.all(
        Array.from({ length: picks }, (_, i) => viaLlm(readings[(cursor + i) % readings.length]!)),
      );
      for (let i = 0; i < picks; i++) readings[(cursor + i) % readings.length] = replaced[i]!;
      cursor = (cursor + picks) % readings.length;
      return readings;
    },
    stats: () => ({ mode, ...counts }),
  };
}

/**
 * The fleet the publisher sweeps, with readings written by the LLM blended in (SIMULATOR=llm).
 * The publisher asks for sweeps synchronously at its rate; an LLM answers in hundreds of
 * milliseconds. So each sweep hands at most `concurrency` of its readings to the LLM instead of
 * publishing them, and the next sweeps publish what came back: the LLM's reading, or the
 * simulator's own when the LLM failed (no key, quota, bad answer). Every reading is published
 * exactly once, some a little later than their event time (well within the window grace).
 */
export function llmBlendedFleet(
  fleet: SensorFleet,
  generator: LlmReadingGenerator,
  options: { readonly concurrency?: number; readonly onError?: (error: unknown) => void } = {},
): SensorFleet {
  const concurrency = options.concurrency ?? 1;
  const ready: SensorReading[] = [];
  let inFlight = 0;
  return {
    ...fleet,
    readingsAt(time: number): SensorReading[] {
      const sweep = fleet.readingsAt(time);
      const done = ready.splice(0);
      if (generator.mode === "llm") {
        while (inFlight < concurrency && sweep.length > 0) {
          const taken = sweep.splice(Math.floor(sweep.length / 2), 1)[0]!;
          inFlight++;
          generator
            .rewrite(taken)
            .then(
              (reading) => ready.push(reading),
              (error: unknown) => {
                // rewrite falls back by itself; anything thrown here is a bug, and the reading still goes out
                options.onError?.(error);
                ready.push(taken);
              },
            )
            .finally(() => inFlight--);
        }
      }
      return [...done, ...sweep];
    },
  };
}
