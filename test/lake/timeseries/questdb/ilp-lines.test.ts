import { expect, test } from "bun:test";
import { type IlpLayout, ilpLine } from "../../../../lake/timeseries/questdb/ilp-lines.ts";
import { ErrorCodes, isPlatformError } from "../../../../messages/errors.ts";

const layout: IlpLayout = {
  table: "readings",
  symbols: [
    { name: "sensor_id", type: "symbol" },
    { name: "district", type: "symbol" },
  ],
  fields: [
    { name: "value", type: "double" },
    { name: "count", type: "long" },
    { name: "passed", type: "boolean" },
    { name: "seen", type: "timestamp" },
    { name: "note", type: "varchar" },
  ],
};

const cases: [string, Parameters<typeof ilpLine>[2], Parameters<typeof ilpLine>[3], string][] = [
  [
    "every type",
    ["s1", "north"],
    [1.5, 42, true, 2000, "hi"],
    'readings,sensor_id=s1,district=north value=1.5,count=42i,passed=t,seen=2000000t,note="hi" 1000000\n',
  ],
  [
    "nulls are left out",
    ["s1", null],
    [null, 3, null, null, null],
    "readings,sensor_id=s1 count=3i 1000000\n",
  ],
  [
    "symbol values escape space, comma, equals",
    ["a b,c=d", "x"],
    [1, null, null, null, null],
    "readings,sensor_id=a\\ b\\,c\\=d,district=x value=1 1000000\n",
  ],
  [
    "a newline in a symbol is escaped",
    ["a\nb", null],
    [1, null, null, null, null],
    "readings,sensor_id=a\\\nb value=1 1000000\n",
  ],
  [
    "strings escape quotes and backslashes only",
    ["s", null],
    [null, null, false, null, 'say "a,b=c" \\ ok'],
    'readings,sensor_id=s passed=f,note="say \\"a,b=c\\" \\\\ ok" 1000000\n',
  ],
  [
    "small and large doubles keep their value",
    ["s", null],
    [1e-7, null, null, null, null],
    "readings,sensor_id=s value=1e-7 1000000\n",
  ],
];

for (const [name, symbols, fields, line] of cases)
  test(`ILP line: ${name}`, () => {
    expect(ilpLine(layout, 1000, symbols, fields)).toBe(line);
  });

test("ILP line: a row with nothing but symbols is refused (QuestDB would refuse the line)", () => {
  let error: unknown;
  try {
    ilpLine(layout, 1000, ["s1", null], [null, null, null, null, null]);
  } catch (e) {
    error = e;
  }
  expect(isPlatformError(error, ErrorCodes.SCHEMA_VIOLATION)).toBe(true);
});
