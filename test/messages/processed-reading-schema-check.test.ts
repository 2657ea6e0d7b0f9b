import { describe, expect, test } from "bun:test";
import { platformSchemas, subjectOf } from "../../messages/platform-schemas.ts";
import { passesProcessedReadingSchema } from "../../messages/processed-reading-schema-check.ts";
import { compileJsonSchema } from "../../messages/schema-registry/json-schema-validator.ts";
import { Topics } from "../../messages/topics.ts";

// the schemas the node writes silver and quarantine with, as the registry keeps their text
const schemaOf = (topic: string) => JSON.parse(JSON.stringify(platformSchemas()[subjectOf(topic)]));
const silver = compileJsonSchema(schemaOf(Topics.silver));
const quarantine = compileJsonSchema(schemaOf(Topics.quarantine));
const schemaAccepts = (value: unknown) => silver(value) === undefined;

const reading = {
  sensor_id: "traffic-7",
  type: "traffic",
  event_time: 1_764_633_600_000,
  values: { vehicle_count: 12, avg_speed: 41.5 },
  passed: true,
  quality_score: 1,
  issues: [] as unknown[],
  anomaly_score: 0.25,
  history: 10,
  enrichment: { district: "north", zone: "z1" },
  partition: 3,
  offset: 41,
};
const issue = { rule: "range", family: "range", severity: "warning", message: "speed high" };
const withField = (key: string, value: unknown) => ({ ...reading, [key]: value });
const without = (key: string) => Object.fromEntries(Object.entries(reading).filter(([k]) => k !== key));
const REQUIRED = [
  "sensor_id",
  "type",
  "event_time",
  "values",
  "passed",
  "quality_score",
  "issues",
  "anomaly_score",
  "partition",
  "offset",
];

/** plain JSON-like values: for these the check's verdict is the schema's, both ways */
const accepted: [string, unknown][] = [
  ["a passed reading", reading],
  ["frozen, as the router hands it over", Object.freeze({ ...reading })],
  ["a failed one with issues", { ...reading, passed: false, quality_score: 0.5, issues: [issue, issue] }],
  ["no enrichment (null)", withField("enrichment", null)],
  ["no enrichment (absent)", without("enrichment")],
  ["no history", without("history")],
  ["no measurements", withField("values", {})],
  ["scores at their bounds", { ...reading, quality_score: 0, anomaly_score: 1 }],
  ["huge integers at the safe bounds", { ...reading, partition: -(2 ** 53 - 1), offset: 2 ** 53 - 1 }],
  ["the largest history", withField("history", 2 ** 53 - 1)],
  ["a huge event time and measurement", { ...reading, event_time: 1e300, values: { x: -1.7e308 } }],
  ["-0 everywhere a number goes", { ...reading, partition: -0, history: -0, quality_score: -0 }],
  ["empty strings", { ...reading, sensor_id: "", enrichment: { district: "", zone: "" } }],
  ["keys in another order", Object.fromEntries(Object.entries(reading).reverse())],
  ["each type", withField("type", "utility")],
];

const refused: [string, unknown][] = [
  ["an unknown key (the schema is closed)", withField("extra", "x")],
  ["an unknown key holding undefined", withField("extra", undefined)],
  ["history present as undefined", withField("history", undefined)],
  ["enrichment present as undefined", withField("enrichment", undefined)],
  ["an issue with an extra key", withField("issues", [{ ...issue, extra: 1 }])],
  ["enrichment with an extra key", withField("enrichment", { district: "n", zone: "z", city: "c" })],
  ["enrichment without its zone", withField("enrichment", { district: "n" })],
  ["enrichment's zone as a number", withField("enrichment", { district: "n", zone: 1 })],
  ["enrichment as an array", withField("enrichment", ["n", "z"])],
  ["an unknown type", withField("type", "weather")],
  ["an infinite event time", withField("event_time", Number.POSITIVE_INFINITY)],
  ["a NaN score", withField("anomaly_score", Number.NaN)],
  ["a quality score above 1", withField("quality_score", 1.000001)],
  ["a negative anomaly score", withField("anomaly_score", -1e-9)],
  ["a measurement as text", withField("values", { avg_speed: "41" })],
  ["a NaN measurement", withField("values", { avg_speed: Number.NaN })],
  ["an infinite measurement", withField("values", { avg_speed: Number.NEGATIVE_INFINITY })],
  ["values as an array", withField("values", [1, 2])],
  ["values null", withField("values", null)],
  ["issues as an object", withField("issues", { 0: issue })],
  ["an issue of unknown severity", withField("issues", [{ ...issue, severity: "fatal" }])],
  ["an issue without a message", withField("issues", [{ rule: "r", family: "f", severity: "info" }])],
  ["an issue that is null", withField("issues", [null])],
  ["a fractional history", withField("history", 1.5)],
  ["a negative history", withField("history", -1)],
  ["a history past 2^53", withField("history", 2 ** 53)],
  ["an offset past 2^53", withField("offset", 2 ** 53)],
  ["a partition below -2^53", withField("partition", -(2 ** 53))],
  ["a fractional offset", withField("offset", 41.5)],
  ["an offset as text", withField("offset", "41")],
  ["a bigint offset", withField("offset", 41n)],
  ["passed as text", withField("passed", "true")],
  ["not an object", "reading"],
  ["an array", [reading]],
  ["null", null],
  ["undefined", undefined],
  ...REQUIRED.map((key): [string, unknown] => [`no ${key}`, without(key)]),
  ...REQUIRED.map((key): [string, unknown] => [`${key} null`, withField(key, null)]),
  // (a record of numbers is what values is)
  ...REQUIRED.filter((key) => key !== "values").map((key): [string, unknown] => [
    `${key} an object`,
    withField(key, { a: 1 }),
  ]),
];

describe("the silver and quarantine schema's hand-written check", () => {
  test("both subjects write with the same schema, the one this check is held to", () => {
    expect(schemaOf(Topics.quarantine)).toEqual(schemaOf(Topics.silver));
    expect(quarantine(reading)).toBeUndefined();
  });

  test.each(accepted)("%s: the check and the schema accept it", (_name, value) => {
    expect(schemaAccepts(value)).toBe(true);
    expect(passesProcessedReadingSchema(value)).toBe(true);
  });

  test.each(refused)("%s: the check and the schema refuse it", (_name, value) => {
    expect(schemaAccepts(value)).toBe(false);
    expect(passesProcessedReadingSchema(value)).toBe(false);
  });

  // another prototype: the check is not sure and leaves it to the schema, whichever its verdict
  test.each([
    ["a null-prototype reading", Object.assign(Object.create(null), reading), true],
    [
      "a class instance's values",
      withField(
        "values",
        new (class {
          x = 1;
        })(),
      ),
      true,
    ],
    ["a Map as values", withField("values", new Map([["x", 1]])), true],
  ] as [string, unknown, boolean][])("%s: left to the schema", (_name, value, schemaVerdict) => {
    expect(passesProcessedReadingSchema(value)).toBe(false);
    expect(schemaAccepts(value)).toBe(schemaVerdict);
  });

  // seeded mutations of the actors' shape: replace, drop or add one field, or one inside
  // values, issues or enrichment; whatever the check accepts the schema accepts, and for these
  // plain values it accepts exactly what the schema accepts
  test("seeded mutations: the check's verdict is the schema's", () => {
    let seed = 7;
    const next = () => {
      seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31;
      return seed / 2 ** 31;
    };
    const pick = <T>(items: readonly T[]): T => structuredClone(items[Math.floor(next() * items.length)]!);
    const isRecord = (v: unknown): v is Record<string, unknown> =>
      typeof v === "object" && v !== null && !Array.isArray(v);
    const samples: unknown[] = [
      0,
      -0,
      1,
      -1,
      0.5,
      1.5,
      2 ** 53,
      2 ** 53 - 1,
      -(2 ** 53),
      1e308,
      -1e308,
      Number.NaN,
      Number.POSITIVE_INFINITY,
      "",
      "x",
      "traffic",
      "environment",
      "info",
      "error",
      true,
      false,
      null,
      undefined,
      [],
      [1],
      {},
      { a: 1 },
      { district: "d", zone: "z" },
      issue,
      [issue],
      [{ ...issue, severity: "x" }],
    ];
    const keys = [...Object.keys(reading), "extra", "zone", "rule"];
    let agreed = 0;
    let sure = 0;
    for (let i = 0; i < 20_000; i++) {
      const value: Record<string, unknown> = structuredClone({
        ...reading,
        issues: next() < 0.5 ? [] : [{ ...issue }],
        enrichment: next() < 0.3 ? null : { ...reading.enrichment },
      });
      for (let m = 1 + Math.floor(next() * 2); m > 0; m--) {
        const where = next();
        if (where < 0.5) value[pick(keys)] = pick(samples);
        else if (where < 0.65) delete value[pick(keys)];
        else if (where < 0.8 && isRecord(value.values))
          value.values[pick(["x", "avg_speed"])] = pick(samples);
        else if (where < 0.9 && Array.isArray(value.issues) && isRecord(value.issues[0]))
          value.issues[0][pick(["rule", "severity", "message", "extra"])] = pick(samples);
        else if (isRecord(value.enrichment))
          value.enrichment[pick(["district", "zone", "extra"])] = pick(samples);
      }
      const check = passesProcessedReadingSchema(value);
      const schema = schemaAccepts(value);
      if (check) expect(schema).toBe(true);
      if (check === schema) agreed++;
      if (check) sure++;
    }
    expect(agreed).toBe(20_000);
    // the sweep reaches both verdicts often enough to mean something
    expect(sure).toBeGreaterThan(2_000);
    expect(sure).toBeLessThan(18_000);
  });
});
