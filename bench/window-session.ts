/**
 * Session windows, 100k keys: the rate (issue 4 asks to report it; there is no target).
 *
 * Same events as bench/window-tumbling.ts (100k keys, ~6 s between a key's records, +-500 ms
 * jitter), session gap 10 s: a key's sessions hold ~5 records, and out-of-order records now and
 * then bridge two sessions, which merges them. Baselines on the same events in the same run:
 * the tumbling operator (1-min windows) and the naive Map<`key:windowStart`> tumbling count.
 */
import { session, tumbling } from "../stream/index.ts";
import { EVENTS, makeEvents, type Rate, RUNS, report, runNaive, runOperator } from "./window-tumbling.ts";

const events = makeEvents(EVENTS);
const strings: Rate[] = [];
const ids: Rate[] = [];
const tumblingIds: Rate[] = [];
const naive: Rate[] = [];
let emitted = 0;
for (let run = 0; run < RUNS; run++) {
  const result = runOperator(events, session(10_000), "strings");
  strings.push(result.rate);
  emitted = result.emitted;
  ids.push(runOperator(events, session(10_000), "interned").rate);
  tumblingIds.push(runOperator(events, tumbling(60_000), "interned").rate);
  naive.push(runNaive(events));
}
report(
  `session windows (gap 10 s), 100000 keys, ${EVENTS} events, 2 fields, median of ${RUNS} (${emitted} sessions emitted per run)`,
  [
    { name: "session operator, string keys", figure: "window_session_100k_keys", rates: strings },
    { name: "session operator, interned key ids", figure: "window_session_100k_keys_interned", rates: ids },
    {
      name: "tumbling operator, interned key ids",
      figure: "window_tumbling_100k_keys_interned",
      rates: tumblingIds,
    },
  ],
  {
    name: "naive Map<`key:windowStart`> tumbling, no watermark",
    figure: "naive_map_string_key",
    rates: naive,
  },
);
