import { describe, expect, test } from "bun:test";
import { MAX_BATCH_ROWS, parsePredictRequest } from "../../../actors/model-shard/predict-request.ts";
import { ErrorCodes, isPlatformError } from "../../../messages/errors.ts";
import { HostileInput, seededRandom } from "../../api/fuzz-input.ts";

/**
 * The predict API's body (POST /api/models/:name/predict) as any client may send it: every body
 * is either rows the model can score (a matrix of finite numbers or NaN for missing, one key and
 * time per row) or a refusal with BAD_REQUEST or FEATURE_MISSING naming what is wrong; nothing
 * else is thrown, whatever the shape.
 */
const FEATURES = ["hour", "speed", "count"] as const;

function expectRefusal(body: unknown, code: string) {
  let thrown: unknown;
  try {
    parsePredictRequest(body, FEATURES);
  } catch (error) {
    thrown = error;
  }
  expect(isPlatformError(thrown, code as never)).toBe(true);
}

describe("a predict body of the wrong shape is refused with its code", () => {
  const cases: [what: string, body: unknown, code: string][] = [
    ["null", null, ErrorCodes.BAD_REQUEST],
    ["an array", [[1, 2, 3]], ErrorCodes.BAD_REQUEST],
    ["a string", "1,2,3", ErrorCodes.BAD_REQUEST],
    ["both row and rows", { row: [1, 2, 3], rows: [[1, 2, 3]] }, ErrorCodes.BAD_REQUEST],
    ["neither", {}, ErrorCodes.BAD_REQUEST],
    ["rows as null", { rows: null }, ErrorCodes.BAD_REQUEST],
    ["no rows", { rows: [] }, ErrorCodes.BAD_REQUEST],
    [
      "more rows than a batch holds",
      { rows: Array(MAX_BATCH_ROWS + 1).fill([1, 2, 3]) },
      ErrorCodes.BAD_REQUEST,
    ],
    ["too few values", { row: [1, 2] }, ErrorCodes.FEATURE_MISSING],
    ["a string value", { row: [1, "2", 3] }, ErrorCodes.BAD_REQUEST],
    ["a huge number as text", { row: [1, 2, "1e400"] }, ErrorCodes.BAD_REQUEST],
    ["a nested array value", { row: [1, [2], 3] }, ErrorCodes.BAD_REQUEST],
    ["a missing named feature", { row: { hour: 1, speed: 2 } }, ErrorCodes.FEATURE_MISSING],
    ["an unknown named feature", { row: { hour: 1, speed: 2, count: 3, extra: 4 } }, ErrorCodes.BAD_REQUEST],
    [
      "a prototype key as a feature",
      { row: JSON.parse('{"hour":1,"speed":2,"count":3,"__proto__":1}') },
      ErrorCodes.BAD_REQUEST,
    ],
    ["an empty key", { row: { features: [1, 2, 3], key: "" } }, ErrorCodes.BAD_REQUEST],
    [
      "a key of 201 characters",
      { row: { features: [1, 2, 3], key: "k".repeat(201) } },
      ErrorCodes.BAD_REQUEST,
    ],
    ["a negative time", { row: { features: [1, 2, 3], at: -1 } }, ErrorCodes.BAD_REQUEST],
    ["a time that is not whole", { row: { features: [1, 2, 3], at: 1.5 } }, ErrorCodes.BAD_REQUEST],
  ];
  for (const [what, body, code] of cases) test(`${what}: ${code}`, () => expectRefusal(body, code));
});

test("null and NaN are missing values; the extremes of finite numbers are kept", () => {
  const rows = parsePredictRequest(
    { rows: [[null, Number.MAX_VALUE, -Number.MAX_VALUE], { hour: 0, speed: null, count: 5e-324 }] },
    FEATURES,
  );
  expect(rows.rows).toBe(2);
  expect(Array.from(rows.matrix)).toEqual([
    Number.NaN,
    Number.MAX_VALUE,
    -Number.MAX_VALUE,
    0,
    Number.NaN,
    5e-324,
  ]);
});

test("a seeded fuzz of predict bodies gives scorable rows or a coded refusal, nothing else", () => {
  const seed = Number(process.env.FUZZ_SEED ?? 31_337);
  const input = new HostileInput(seededRandom(seed));
  const value = () =>
    input.pick<() => unknown>([() => input.json(1), () => input.int(1000) - 500, () => null])();
  const row = (): unknown =>
    input.pick<() => unknown>([
      () => Array.from({ length: 2 + input.int(3) }, value),
      () => Object.fromEntries(FEATURES.filter(() => input.random() < 0.9).map((f) => [f, value()])),
      () => ({ features: row(), key: input.json(0), at: input.json(0) }),
      () => input.json(3),
    ])();
  let scorable = 0;
  for (let i = 0; i < 2000; i++) {
    const body = input.pick<() => unknown>([
      () => ({ row: row() }),
      () => ({ rows: Array.from({ length: input.int(20) }, row) }),
      () => input.json(4),
    ])();
    try {
      const parsed = parsePredictRequest(body, FEATURES);
      scorable++;
      expect(parsed.matrix.length).toBe(parsed.rows * FEATURES.length);
      for (const x of parsed.matrix) expect(Number.isNaN(x) || Number.isFinite(x)).toBe(true);
      expect(parsed.keys).toHaveLength(parsed.rows);
    } catch (error) {
      const where = `seed ${seed} case ${i}: ${JSON.stringify(body)?.slice(0, 200)}`;
      expect(
        isPlatformError(error, ErrorCodes.BAD_REQUEST) || isPlatformError(error, ErrorCodes.FEATURE_MISSING),
        where,
      ).toBe(true);
    }
  }
  // the seed reaches past the checks: some bodies score
  expect(scorable).toBeGreaterThan(0);
});
