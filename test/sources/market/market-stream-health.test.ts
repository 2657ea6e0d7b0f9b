import { expect, test } from "bun:test";
import { sessionAt } from "../../../sources/market/calendar/nyse-calendar.ts";
import { marketStreamVerdict } from "../../../sources/market/market-stream-health.ts";
import type { SourceHealth } from "../../../sources/market/source-chain.ts";

/** The `/health` market check, judged at instants in and out of an NYSE session. */
const OPEN = Date.parse("2024-03-04T15:00:00Z"); // a Monday, 10:00 in New York
const CLOSED = Date.parse("2024-03-03T15:00:00Z"); // a Sunday

const chainOf = (active: string | undefined, lastEventAt?: number) => ({
  activeSource: () => active,
  health: (): SourceHealth[] =>
    active === undefined
      ? []
      : [
          {
            name: active,
            state: "active",
            activations: 1,
            ...(lastEventAt === undefined ? {} : { lastEventAt }),
          },
        ],
});

test("the instants of the table are what they say", () => {
  expect(sessionAt(OPEN)).toBeDefined();
  expect(sessionAt(CLOSED)).toBeUndefined();
});

test.each([
  ["no source streams", chainOf(undefined), OPEN, false, false, /no market-data source streams/],
  [
    "the active source sent within two minutes",
    chainOf("alpaca", OPEN - 119_000),
    OPEN,
    false,
    true,
    undefined,
  ],
  [
    "the active source is silent while the market is open",
    chainOf("alpaca", OPEN - 121_000),
    OPEN,
    false,
    false,
    /alpaca has sent nothing for 121 s/,
  ],
  [
    "a silent source while the market is closed",
    chainOf("alpaca", CLOSED - 3_600_000),
    CLOSED,
    false,
    true,
    undefined,
  ],
  ["a source that has sent nothing yet", chainOf("alpaca"), OPEN, false, true, undefined],
  [
    "the simulator around the clock is silent on a Sunday",
    chainOf("simulator", CLOSED - 121_000),
    CLOSED,
    true,
    false,
    /simulator has sent nothing/,
  ],
  [
    "the simulator on calendar hours is silent on a Sunday",
    chainOf("simulator", CLOSED - 121_000),
    CLOSED,
    false,
    true,
    undefined,
  ],
  [
    "replay is judged by the calendar even when the simulator runs around the clock",
    chainOf("replay", CLOSED - 121_000),
    CLOSED,
    true,
    true,
    undefined,
  ],
])("%s", (_name, chain, now, simulatorAlwaysOpen, ok, reason) => {
  const verdict = marketStreamVerdict(chain, now, { simulatorAlwaysOpen });
  expect(verdict.ok).toBe(ok);
  if (reason) expect(verdict.reason).toMatch(reason);
  else expect(verdict.reason).toBeUndefined();
});
