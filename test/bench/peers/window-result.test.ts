import { describe, expect, test } from "bun:test";
import {
  encodeWindowResult,
  windowResultBound,
  writeWindowResult,
} from "../../../bench/peers/window-result.ts";

/**
 * Our side writes its window updates as bytes straight from the numbers; Kafka Streams' side and
 * the result check read them as the text `encodeWindowResult` gives: the bytes must be that
 * text's UTF-8, whatever the numbers and the sensor id.
 */
describe("a window result written as bytes", () => {
  const field = (sum: number, min: number, max: number) => ({ sum, min, max });
  test.each([
    ["whole numbers", "sensor-00042", 1_764_000_000_000, 3, field(57, 3, 40), field(120, 30, 50)],
    [
      "decimal sums and averages",
      "sensor-1",
      1_764_000_060_000,
      7,
      field(0.1 + 0.2, 0.1, 0.2),
      field(31.7, 12.3, 55.1),
    ],
    ["zero, negative zero and negatives", "s", 0, 1, field(-0, -3, 0), field(-12.5, -12.5, -12.5)],
    [
      "very large and very small numbers",
      "big",
      9_007_199_254_740_991,
      2,
      field(1e21, 5e-324, Number.MAX_VALUE),
      field(-1.2345678901234567e-308, -Number.MAX_VALUE, 2 ** 53 + 2),
    ],
    [
      "numbers that are not finite",
      "nan",
      60_000,
      0,
      field(Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY),
      field(0, 0, 0),
    ],
    ["a sensor id outside ASCII", "capteur-été-🚦", 120_000, 2, field(4, 1, 3), field(99.9, 49.9, 50)],
    ["an empty sensor id", "", 180_000, 1, field(1, 1, 1), field(2, 2, 2)],
  ])("%s: the UTF-8 of the text", (_name, sensorId, start, count, vehicle, speed) => {
    const text = encodeWindowResult(sensorId, start, start + 60_000, count, vehicle, speed);
    const bound = windowResultBound(sensorId);
    // written past the start of a used buffer, as the batch's values share one
    const into = new Uint8Array(7 + bound).fill(0xee);
    const end = writeWindowResult(into, 7, sensorId, start, start + 60_000, count, vehicle, speed);
    expect(new TextDecoder().decode(into.subarray(7, end))).toBe(text);
    expect(into.subarray(7, end)).toEqual(new TextEncoder().encode(text));
    expect(into.subarray(0, 7)).toEqual(new Uint8Array(7).fill(0xee)); // nothing before `at`
    expect(end - 7).toBeLessThanOrEqual(bound);
  });

  test("results written one after another each keep their own bytes", () => {
    const ids = ["sensor-a", "sensor-ü", "sensor-c"];
    const texts = ids.map((id, i) =>
      encodeWindowResult(id, i * 60_000, (i + 1) * 60_000, i + 1, field(i, i, i), field(i / 3, i / 3, i / 3)),
    );
    const into = new Uint8Array(ids.reduce((sum, id) => sum + windowResultBound(id), 0));
    let at = 0;
    const ends: number[] = [];
    for (const [i, id] of ids.entries()) {
      at = writeWindowResult(
        into,
        at,
        id,
        i * 60_000,
        (i + 1) * 60_000,
        i + 1,
        field(i, i, i),
        field(i / 3, i / 3, i / 3),
      );
      ends.push(at);
    }
    const decoded = ends.map((end, i) =>
      new TextDecoder().decode(into.subarray(i === 0 ? 0 : ends[i - 1], end)),
    );
    expect(decoded).toEqual(texts);
  });
});
