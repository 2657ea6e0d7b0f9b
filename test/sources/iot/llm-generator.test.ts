import { describe, expect, test } from "bun:test";
import { SensorReading } from "../../../messages/sensor-reading.ts";
import {
  createLlmReadingGenerator,
  llmBlendedFleet,
  type TextGenerator,
} from "../../../sources/iot/llm-generator.ts";
import { createSensorFleet } from "../../../sources/iot/sensor-fleet.ts";
import { Gazetteer } from "../../../sources/news/reader/gazetteer.ts";
import { BERLIN_GRID } from "../../../sources/reference/city-districts.ts";
import { startGeminiSimulator } from "../../../testkit/gemini-simulator.ts";

const T = Date.UTC(2024, 2, 4, 8);
const KEY = "test-key-do-not-print";
const fleet = () => createSensorFleet({ seed: 5, faults: { dropoutRate: 0 } });

/** a stand-in LLM that answers from a script: what the model says is the input under test */
const scripted =
  (answer: (prompt: string) => string): (() => Promise<TextGenerator>) =>
  async () =>
  async (prompt) =>
    answer(prompt);
const askedFor = (prompt: string) => JSON.parse(prompt.slice(prompt.indexOf("A typical reading: ") + 19));

describe("LLM reading generator", () => {
  test("without GEMINI_API_KEY it is the simulator and never loads the LLM client", async () => {
    let loaded = false;
    const gen = createLlmReadingGenerator({
      fleet: fleet(),
      env: {},
      loadGenerator: async () => {
        loaded = true;
        return async () => "";
      },
    });
    expect(gen.mode).toBe("simulator");
    expect(await gen.readingsAt(T)).toEqual(fleet().readingsAt(T));
    expect(loaded).toBe(false);
    expect(gen.stats()).toMatchObject({ mode: "simulator", llmReadings: 0, fallbacks: 0 });
  });

  test("with a key, a valid answer for the sensor asked for replaces the simulated reading", async () => {
    const gen = createLlmReadingGenerator({
      fleet: fleet(),
      env: { GEMINI_API_KEY: KEY },
      llmReadingsPerCall: 2,
      loadGenerator: scripted((p) => ["```json", JSON.stringify(askedFor(p)), "```"].join("\n")),
    });
    const readings = await gen.readingsAt(T);
    expect(readings.length).toBe(15);
    for (const r of readings) expect(SensorReading.safeParse(r).success).toBe(true);
    expect(gen.stats()).toMatchObject({ mode: "llm", llmReadings: 2, fallbacks: 0 });
  });

  const badAnswers: [string, (prompt: string) => string, RegExp][] = [
    ["prose instead of JSON", () => "Sure! Here is a reading.", /not JSON/],
    [
      "JSON that fails the schema",
      (p) => JSON.stringify({ ...askedFor(p), timestamp: "yesterday" }),
      /schema/,
    ],
    [
      "a reading for another sensor",
      (p) => JSON.stringify({ ...askedFor(p), sensor_id: "someone_else" }),
      /not the sensor/,
    ],
    [
      "a thrown error that quotes the key",
      () => {
        throw new Error(`401 for key ${KEY}`);
      },
      /unavailable/,
    ],
  ];
  test.each(badAnswers)("falls back to the simulator and counts it on %s", async (_name, answer, reason) => {
    const gen = createLlmReadingGenerator({
      fleet: fleet(),
      env: { GEMINI_API_KEY: KEY },
      loadGenerator: scripted(answer),
    });
    expect(await gen.readingsAt(T)).toEqual(fleet().readingsAt(T));
    const stats = gen.stats();
    expect(stats.fallbacks).toBe(1);
    expect(stats.lastFallbackReason).toMatch(reason);
    expect(JSON.stringify(stats)).not.toContain(KEY);
  });

  test("with a key but no @google/genai installed, every call falls back and the key stays out of the reason", async () => {
    const gen = createLlmReadingGenerator({ fleet: fleet(), env: { GEMINI_API_KEY: KEY } });
    const readings = await gen.readingsAt(T);
    expect(readings.length).toBe(15);
    expect(gen.stats().fallbacks).toBe(1);
    expect(gen.stats().lastFallbackReason).not.toContain(KEY);
  });
});

describe("SIMULATOR=llm through the official Gemini SDK", () => {
  const gazetteer = new Gazetteer(BERLIN_GRID.names.flat());

  test("LLM-written readings reach the sweeps; on a quota error the simulator's reading goes out instead; none twice, none lost", async () => {
    const gemini = startGeminiSimulator({ apiKey: KEY, gazetteer });
    try {
      const generator = createLlmReadingGenerator({
        fleet: fleet(),
        env: { GEMINI_API_KEY: KEY, GEMINI_BASE_URL: gemini.url },
      });
      const blended = llmBlendedFleet(fleet(), generator, { concurrency: 2 });
      const published: SensorReading[] = [];
      const sweeps = 6;
      for (let i = 0; i < sweeps; i++) {
        if (i === 3) gemini.failNext(2, 429);
        published.push(...blended.readingsAt(T + i * 1000));
        // let the model answer before the next sweep
        await Bun.sleep(150);
      }
      published.push(...blended.readingsAt(T + sweeps * 1000));
      await Bun.sleep(150);
      published.push(...blended.readingsAt(T + (sweeps + 1) * 1000));
      const expected = Array.from({ length: sweeps + 2 }, (_, i) => fleet().readingsAt(T + i * 1000)).flat();
      const key = (r: SensorReading) => `${r.sensor_id}@${r.timestamp}`;
      // every reading of the sweeps, except the last sweep's two still with the model, exactly once
      const seen = published.map(key);
      expect(new Set(seen).size).toBe(seen.length);
      expect(seen.length).toBe(expected.length - 2);
      const stats = generator.stats();
      expect(stats.mode).toBe("llm");
      expect(stats.llmReadings).toBeGreaterThan(0);
      expect(stats.fallbacks).toBe(2);
      expect(stats.lastFallbackReason).not.toContain(KEY);
      expect(gemini.requests.length).toBeGreaterThanOrEqual(stats.llmReadings);
    } finally {
      await gemini.stop();
    }
  });
});
