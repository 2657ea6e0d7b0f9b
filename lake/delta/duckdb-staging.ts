import {
  BLOB,
  BOOLEAN,
  DOUBLE,
  DuckDBBlobValue,
  type DuckDBDataChunk,
  DuckDBEnumType,
  DuckDBLogicalType,
  DuckDBTableFunction,
  type DuckDBType,
  DuckDBTypeId,
  INTEGER,
  VARCHAR,
} from "@duckdb/node-api";
import duckdb from "@duckdb/node-bindings";
import { ErrorCodes, PlatformError } from "../../messages/errors.ts";
import type { DeltaField } from "./schema.ts";
import { duckdbType } from "./schema.ts";
import { ColumnStats } from "./stats.ts";

/**
 * How rows reach DuckDB's parquet writer. Each value is checked against its Delta type and
 * staged in the cheapest form the JS side can hand over: numbers, epoch-millisecond timestamps
 * and booleans in typed arrays (copied into a DuckDB vector in one call per chunk; the node-api's
 * per-value setters cost more than the whole parquet write), strings and dates as codes of a
 * per-call dictionary that DuckDB receives as an ENUM type (the binding crosses into native code
 * once per string value, and streaming rows repeat a few thousand sensor ids, districts, zones
 * and days; an ENUM vector is just the codes, and DuckDB writes it to parquet as UTF8 strings).
 * DuckDB reads the staged columns through the `delta_staged_rows(id)` table function, and the
 * COPY's SELECT casts them back to the Delta types.
 */

export const CHUNK_ROWS = 2048;
export const ROWS_FUNCTION = "delta_staged_rows";
type TypedColumn = Float64Array | Int32Array | Uint32Array | Uint16Array | Uint8Array;

export interface Stager {
  stageType: DuckDBType;
  /** SQL turning the staged value (or its dictionary word) back into the Delta type */
  select(expression: string): string;
  /** the staged value of a non-null input, or throws RowValueError */
  convert(value: unknown): number | string | boolean | DuckDBBlobValue;
  /** typed: staged in a typed array; dictionary: a string staged as its code (Int32) */
  form: "f64" | "bool" | "dictionary" | "values";
}

export class RowValueError extends Error {}

const INTEGER_RANGES: Record<string, [number, number]> = {
  long: [Number.MIN_SAFE_INTEGER, Number.MAX_SAFE_INTEGER],
  integer: [-2147483648, 2147483647],
  short: [-32768, 32767],
  byte: [-128, 127],
};

const DATE_TEXT = /^\d{4}-\d{2}-\d{2}$/;
const DECIMAL_TEXT = /^-?\d+(\.\d+)?$/;

export function stagerFor(field: DeltaField): Stager {
  const type = field.type;
  const wrong = (value: unknown): never => {
    throw new RowValueError(
      `column ${field.name} (${JSON.stringify(type)}) cannot hold a ${describe(value)}`,
    );
  };
  if (typeof type !== "string") {
    throw new PlatformError(
      ErrorCodes.DELTA_SCHEMA_MISMATCH,
      `column ${field.name}: nested types are read-only here`,
    );
  }
  const range = INTEGER_RANGES[type];
  if (range) {
    const [lo, hi] = range;
    return {
      stageType: DOUBLE,
      form: "f64",
      select: (c) => `CAST(${c} AS ${duckdbType(type)})`,
      convert: (v) => {
        const n = typeof v === "bigint" ? Number(v) : v;
        if (typeof n !== "number" || !Number.isInteger(n) || n < lo || n > hi) return wrong(v);
        return n;
      },
    };
  }
  switch (type) {
    case "string":
      return {
        stageType: INTEGER,
        form: "dictionary",
        select: (c) => c,
        convert: (v) => (typeof v === "string" ? v : wrong(v)),
      };
    case "double":
    case "float":
      return {
        stageType: DOUBLE,
        form: "f64",
        select: (c) => (type === "float" ? `CAST(${c} AS FLOAT)` : c),
        convert: (v) => (typeof v === "number" ? v : wrong(v)),
      };
    case "boolean":
      return {
        stageType: BOOLEAN,
        form: "bool",
        select: (c) => c,
        convert: (v) => (typeof v === "boolean" ? v : wrong(v)),
      };
    case "timestamp":
    case "timestamp_ntz":
      return {
        stageType: DOUBLE,
        form: "f64",
        select: (c) =>
          `${type === "timestamp" ? "make_timestamptz" : "make_timestamp"}(CAST(${c} * 1000 AS BIGINT))`,
        convert: (v) => {
          const ms = v instanceof Date ? v.getTime() : typeof v === "string" ? Date.parse(v) : v;
          if (typeof ms !== "number" || !Number.isFinite(ms)) return wrong(v);
          return ms;
        },
      };
    case "date":
      return {
        stageType: INTEGER,
        form: "dictionary",
        select: (c) => `CAST(CAST(${c} AS VARCHAR) AS DATE)`,
        convert: (v) => {
          if (v instanceof Date && Number.isFinite(v.getTime())) return v.toISOString().slice(0, 10);
          if (typeof v === "string" && DATE_TEXT.test(v) && Number.isFinite(Date.parse(v))) return v;
          return wrong(v);
        },
      };
    case "binary":
      return {
        stageType: BLOB,
        form: "values",
        select: (c) => c,
        convert: (v) => (v instanceof Uint8Array ? new DuckDBBlobValue(v) : wrong(v)),
      };
    default:
      return {
        stageType: VARCHAR,
        form: "values",
        select: (c) => `CAST(${c} AS ${duckdbType(type)})`,
        convert: (v) => {
          const text = typeof v === "number" && Number.isFinite(v) ? String(v) : v;
          if (typeof text !== "string" || !DECIMAL_TEXT.test(text)) return wrong(v);
          return text;
        },
      };
  }
}

function describe(value: unknown): string {
  if (value === null) return "null";
  if (value instanceof Date) return "invalid Date";
  if (Array.isArray(value)) return "array";
  return typeof value;
}

/** One staged column: a typed array (with a validity bitmap when it holds nulls) or plain values. */
export type StagedColumn = { typed: TypedColumn; validity: Uint8Array | undefined } | { values: unknown[] };

/** The staged columns of one file, read by DuckDB through the table functions. */
export interface StagedFile {
  types: readonly DuckDBType[];
  columns: readonly StagedColumn[];
  length: number;
  position: number;
}

/**
 * Stages the files of one write: every value checked and converted before DuckDB sees any (a bad
 * row writes nothing), one dictionary per string column shared by the files. Returns the column
 * types the table function announces: a dictionary column's is the ENUM of its words, and its
 * codes are narrowed to that ENUM's width.
 */
export function stageFiles(
  columns: readonly DeltaField[],
  files: readonly { rows: readonly Record<string, unknown>[] }[],
): { stagers: Stager[]; types: DuckDBType[]; staged: StagedColumn[][]; stats: ColumnStats[][] } {
  let stagers = columns.map(stagerFor);
  for (;;) {
    const dictionaries = stagers.map((s) =>
      s.form === "dictionary" ? new Map<string, number>() : undefined,
    );
    const stats = files.map(() => columns.map((f) => new ColumnStats(f)));
    const staged = files.map((file, i) =>
      stageColumns(file.rows, columns, stagers, dictionaries, stats[i] as ColumnStats[]),
    );
    // rare: a word holding a NUL, which an ENUM's C strings cannot carry; that column goes again as plain strings
    const unfit = dictionaries.map((d) => d !== undefined && [...d.keys()].some((w) => w.includes("\u0000")));
    if (unfit.some(Boolean)) {
      stagers = stagers.map((s, i) => (unfit[i] ? plainStrings(s) : s));
      continue;
    }
    const types = stagers.map((stager, c) => {
      const dictionary = dictionaries[c];
      if (!dictionary) return stager.stageType;
      // an ENUM needs a value even when every row is null
      const enumType = new StagedEnumType(dictionary.size === 0 ? [""] : [...dictionary.keys()]);
      for (const file of staged) file[c] = narrowCodes(file[c] as StagedColumn, enumType.width);
      return enumType;
    });
    return { stagers, types, staged, stats };
  }
}

/**
 * The ENUM of one write's words, its native logical type made once: each COPY of a write binds
 * the table function anew, and making a 2,000-word ENUM costs ~0.5 ms each time. The node-api's
 * `ENUM(words)` also indexes every word in a JS object for its value setters, which staging never
 * calls (it writes the codes): for a write's unique reading ids and payloads that index cost more
 * than DuckDB's own type (10.6 % against 8.7 % of the lake sinks' main-thread samples), so the
 * JS type here holds no words, only the native type made from them.
 */
export class StagedEnumType extends DuckDBEnumType {
  private readonly logical: DuckDBLogicalType;
  /** bytes a code takes: DuckDB's width for this many words */
  readonly width: 1 | 2 | 4;

  constructor(readonly words: readonly string[]) {
    const width = words.length < 256 ? 1 : words.length < 65536 ? 2 : 4;
    super(
      [],
      width === 1 ? DuckDBTypeId.UTINYINT : width === 2 ? DuckDBTypeId.USMALLINT : DuckDBTypeId.UINTEGER,
    );
    this.width = width;
    this.logical = DuckDBLogicalType.createEnum(words);
  }

  override toLogicalType(): DuckDBLogicalType {
    return this.logical;
  }

  override toString(): string {
    return `ENUM(${this.words.length} words)`;
  }
}

/** Int32 codes -> the unsigned width of their ENUM (1, 2 or 4 bytes), validity unchanged. */
function narrowCodes(column: StagedColumn, width: number): StagedColumn {
  if (!("typed" in column)) return column;
  const codes = column.typed;
  const narrow =
    width === 1 ? Uint8Array.from(codes) : width === 2 ? Uint16Array.from(codes) : Uint32Array.from(codes);
  return { typed: narrow, validity: column.validity };
}

function plainStrings(stager: Stager): Stager {
  return { ...stager, stageType: VARCHAR, form: "values" };
}

/** Checks and converts one file's rows into staged columns, gathering the file's statistics. */
export function stageColumns(
  rows: readonly Record<string, unknown>[],
  columns: readonly DeltaField[],
  stagers: readonly Stager[],
  dictionaries: readonly (Map<string, number> | undefined)[],
  stats: readonly ColumnStats[],
): StagedColumn[] {
  try {
    return columns.map((field, c) => {
      const stager = stagers[c] as Stager;
      const column = stats[c] as ColumnStats;
      const dictionary = dictionaries[c];
      if (stager.form === "f64") return stageNumbers(rows, field, stager, column);
      if (stager.form === "dictionary")
        return stageWords(rows, field, stager, column, dictionary as Map<string, number>);
      return stageOthers(rows, field, stager, column);
    });
  } catch (error) {
    if (error instanceof RowValueError) throw new PlatformError(ErrorCodes.SCHEMA_VIOLATION, error.message);
    throw error;
  }
}

/** Marks row `r` null in a validity bitmap (one bit per row, LSB first in 64-bit words: DuckDB's layout). */
function markNull(validity: Uint8Array | undefined, n: number, r: number): Uint8Array {
  const bits = validity ?? new Uint8Array(Math.ceil(n / 64) * 8).fill(0xff);
  bits[r >> 3] = (bits[r >> 3] as number) & ~(1 << (r & 7));
  return bits;
}

/** doubles, integers and timestamps: a Float64Array, bounds kept in locals (the hot loop of an append) */
function stageNumbers(
  rows: readonly Record<string, unknown>[],
  field: DeltaField,
  stager: Stager,
  stats: ColumnStats,
): StagedColumn {
  const n = rows.length;
  const name = field.name;
  const typed = new Float64Array(n);
  // a double takes any number as it is; other types go through their checks
  const plain = field.type === "double";
  let validity: Uint8Array | undefined;
  let min = Number.POSITIVE_INFINITY;
  let max = Number.NEGATIVE_INFINITY;
  let nulls = 0;
  let nan = false;
  for (let r = 0; r < n; r++) {
    const raw = (rows[r] as Record<string, unknown>)[name];
    if (raw === null || raw === undefined) {
      if (!field.nullable) throw new RowValueError(`column ${name} is not nullable`);
      nulls++;
      validity = markNull(validity, n, r);
      continue;
    }
    const value = plain && typeof raw === "number" ? raw : (stager.convert(raw) as number);
    typed[r] = value;
    if (value < min) min = value;
    if (value > max) max = value;
    if (Number.isNaN(value)) nan = true;
  }
  stats.addNumbers(min, max, nulls, nan);
  return { typed, validity };
}

/** strings and dates: codes into the call's dictionary; bounds compared at a word's first row in this file */
function stageWords(
  rows: readonly Record<string, unknown>[],
  field: DeltaField,
  stager: Stager,
  stats: ColumnStats,
  dictionary: Map<string, number>,
): StagedColumn {
  const n = rows.length;
  const name = field.name;
  const typed = new Int32Array(n);
  const seen = new Uint8Array(dictionary.size + n);
  const plain = field.type === "string";
  let validity: Uint8Array | undefined;
  for (let r = 0; r < n; r++) {
    const raw = (rows[r] as Record<string, unknown>)[name];
    if (raw === null || raw === undefined) {
      if (!field.nullable) throw new RowValueError(`column ${name} is not nullable`);
      stats.nulls++;
      validity = markNull(validity, n, r);
      continue;
    }
    const word = plain && typeof raw === "string" ? raw : (stager.convert(raw) as string);
    let code = dictionary.get(word);
    if (code === undefined) {
      code = dictionary.size;
      dictionary.set(word, code);
    }
    typed[r] = code;
    if (seen[code] === 0) {
      seen[code] = 1;
      stats.add(word);
    }
  }
  return { typed, validity };
}

/** booleans (a Uint8Array), decimals and binaries (plain values) */
function stageOthers(
  rows: readonly Record<string, unknown>[],
  field: DeltaField,
  stager: Stager,
  stats: ColumnStats,
): StagedColumn {
  const n = rows.length;
  const typed = stager.form === "bool" ? new Uint8Array(n) : undefined;
  const values = typed ? undefined : new Array<unknown>(n);
  let validity: Uint8Array | undefined;
  for (let r = 0; r < n; r++) {
    const raw = (rows[r] as Record<string, unknown>)[field.name];
    if (raw === null || raw === undefined) {
      if (!field.nullable) throw new RowValueError(`column ${field.name} is not nullable`);
      stats.nulls++;
      if (values) values[r] = null;
      else validity = markNull(validity, n, r);
      continue;
    }
    const staged = stager.convert(raw);
    if (typed) {
      typed[r] = staged === true ? 1 : 0;
    } else {
      (values as unknown[])[r] = staged;
      if (!(staged instanceof DuckDBBlobValue)) stats.add(staged as string);
    }
  }
  return typed ? { typed, validity } : { values: values as unknown[] };
}

/** Fills DuckDB's output chunk with the next rows of a staged file; 0 rows ends the scan. */
export function fillChunk(file: StagedFile, output: DuckDBDataChunk): void {
  const count = Math.min(CHUNK_ROWS, file.length - file.position);
  output.rowCount = count;
  if (count === 0) return;
  const from = file.position;
  file.columns.forEach((column, c) => {
    if ("values" in column) {
      output.setColumnValues(
        c,
        (count === column.values.length ? column.values : column.values.slice(from, from + count)) as never,
      );
      return;
    }
    const vector = duckdb.data_chunk_get_vector(output.chunk, c);
    const width = column.typed.BYTES_PER_ELEMENT;
    duckdb.copy_data_to_vector(
      vector,
      0,
      column.typed.buffer as ArrayBuffer,
      column.typed.byteOffset + from * width,
      count * width,
    );
    if (column.validity) {
      // `from` is a multiple of 2,048 rows, so the slice starts on a 64-bit word of the bitmap
      duckdb.vector_ensure_validity_writable(vector);
      duckdb.copy_data_to_vector_validity(
        vector,
        0,
        column.validity.buffer as ArrayBuffer,
        column.validity.byteOffset + from / 8,
        Math.ceil(count / 64) * 8,
      );
    }
  });
  file.position += count;
}

/** `delta_staged_rows(id)`: DuckDB's scan of the staged file `id`, called back on the JS thread. */
export function stagedRowsFunction(files: ReadonlyMap<number, StagedFile>): DuckDBTableFunction {
  return DuckDBTableFunction.create({
    name: ROWS_FUNCTION,
    parameterTypes: [INTEGER],
    bindFunction: (bind) => {
      const id = Number(bind.getParameter(0));
      const file = files.get(id);
      if (!file) {
        bind.setError(`no staged file ${id}`);
        return;
      }
      file.types.forEach((type, i) => {
        bind.addResultColumn(`c${i}`, type);
      });
      bind.setBindData({ id });
      bind.setCardinality(file.length, true);
    },
    initFunction: (init) => {
      init.setMaxThreads(1);
    },
    mainFunction: (info, output) => {
      const file = files.get((info.bindData as { id: number }).id);
      if (!file) {
        info.setError("the staged file is gone");
        return;
      }
      fillChunk(file, output);
    },
  });
}
