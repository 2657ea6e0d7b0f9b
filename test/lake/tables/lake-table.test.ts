import { describe, expect, test } from "bun:test";
import { utcDate } from "../../../lake/tables/lake-table.ts";

const at = (iso: string) => Date.parse(iso);

describe("utcDate", () => {
  // in this order: the day's text is kept between calls, so each case also checks that a
  // change of day (forward, back, across 1970) is seen
  test.each([
    [at("2026-12-02T00:00:00.000Z"), "2026-12-02"],
    [at("2026-12-02T23:59:59.999Z"), "2026-12-02"],
    [at("2026-12-03T00:00:00.000Z"), "2026-12-03"],
    [at("2026-12-02T23:59:59.999Z"), "2026-12-02"],
    [0, "1970-01-01"],
    [-1, "1969-12-31"],
    [-86_400_000, "1969-12-31"],
    [-86_400_001, "1969-12-30"],
    [at("2024-02-29T12:00:00Z"), "2024-02-29"],
  ])("the instant %p falls on %p", (ms, day) => {
    expect(utcDate(ms)).toBe(day);
  });

  test("a time that is no instant throws, and the next call still answers its own day", () => {
    expect(utcDate(at("2026-12-02T10:00:00Z"))).toBe("2026-12-02");
    expect(() => utcDate(Number.NaN)).toThrow(RangeError);
    expect(() => utcDate(9e15)).toThrow(RangeError);
    expect(utcDate(at("2026-12-02T11:00:00Z"))).toBe("2026-12-02");
    expect(utcDate(at("2026-12-05T11:00:00Z"))).toBe("2026-12-05");
  });
});
