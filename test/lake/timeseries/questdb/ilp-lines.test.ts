import { expect, test } from "bun:test";
import { type IlpLayout, ilpBody } from "../../../../lake/timeseries/questdb/ilp-lines.ts";
import type { TableDefinition, TimeSeriesRow } from "../../../../lake/timeseries/time-series-store.ts";
import { ErrorCodes, isPlatformError } from "../../../../messages/errors.ts";

const table: TableDefinition = {
  name: "readings",
  timestamp: "ts",
  columns: [
    { name: "sensor_id", type: "symbol" },
    { name: "district", type: "symbol" },
    { name: "value", type: "double" },
    { name: "count", type: "long" },
    { name: "passed", type: "boolean" },
    { name: "seen", type: "timestamp" },
    { name: "note", type: "varchar" },
  ],
  dedupKeys: ["sensor_id"],
};
const layout: IlpLayout = {
  table: "readings",
  symbols: table.columns.filter((c) => c.type === "symbol"),
  fields: table.columns.filter((c) => c.type !== "symbol"),
};

const cases: [string, TimeSeriesRow, string][] = [
  [
    "every type",
    {
      ts: 1000,
      sensor_id: "s1",
      district: "north",
      value: 1.5,
      count: 42,
      passed: true,
      seen: 2000,
      note: "hi",
    },
    'readings,sensor_id=s1,district=north value=1.5,count=42i,passed=t,seen=2000000t,note="hi" 1000000\n',
  ],
  [
    "nulls and missing columns are left out",
    { ts: 1000, sensor_id: "s1", district: null, count: 3 },
    "readings,sensor_id=s1 count=3i 1000000\n",
  ],
  [
    "symbol values escape space, comma, equals",
    { ts: 1000, sensor_id: "a b,c=d", district: "x", value: 1 },
    "readings,sensor_id=a\\ b\\,c\\=d,district=x value=1 1000000\n",
  ],
  [
    "a newline in a symbol is escaped",
    { ts: 1000, sensor_id: "a\nb", value: 1 },
    "readings,sensor_id=a\\\nb value=1 1000000\n",
  ],
  [
    "strings escape quotes and backslashes only",
    { ts: 1000, sensor_id: "s", passed: false, note: 'say "a,b=c" \\ ok' },
    'readings,sensor_id=s passed=f,note="say \\"a,b=c\\" \\\\ ok" 1000000\n',
  ],
  [
    "small doubles keep their value",
    { ts: 1000, sensor_id: "s", value: 1e-7 },
    "readings,sensor_id=s value=1e-7 1000000\n",
  ],
];

for (const [name, row, line] of cases)
  test(`ILP line: ${name}`, () => {
    expect(ilpBody(table, layout, [row])).toBe(line);
  });

test("ILP body: one line per row, in order", () => {
  const rows = [1, 2, 3].map((i) => ({ ts: i, sensor_id: `s${i}`, value: i }));
  expect(ilpBody(table, layout, rows).split("\n").filter(Boolean)).toHaveLength(3);
});

const refused: [string, TimeSeriesRow][] = [
  ["a row with nothing but symbols (QuestDB would refuse the line)", { ts: 1000, sensor_id: "s1" }],
  ["a row without its identity", { ts: 1000, value: 1 }],
  ["a long that is not an integer", { ts: 1000, sensor_id: "s1", count: 1.5 }],
  ["a double that is not finite", { ts: 1000, sensor_id: "s1", value: Number.POSITIVE_INFINITY }],
];
for (const [name, row] of refused)
  test(`ILP body: ${name} is SCHEMA_VIOLATION`, () => {
    let error: unknown;
    try {
      ilpBody(table, layout, [row]);
    } catch (e) {
      error = e;
    }
    expect(isPlatformError(error, ErrorCodes.SCHEMA_VIOLATION)).toBe(true);
  });
