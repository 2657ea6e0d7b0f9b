import { describe, expect, test } from "bun:test";
import { SensorReading } from "../../../messages/sensor-reading.ts";
import { createLlmReadingGenerator, type TextGenerator } from "../../../sources/iot/llm-generator.ts";
import { createSensorFleet } from "../../../sources/iot/sensor-fleet.ts";

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
