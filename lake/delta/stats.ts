import type { FileStats } from "./actions.ts";
import type { DeltaField, DeltaType } from "./schema.ts";

/**
 * Per-file statistics for the add action (PROTOCOL.md "Per-file Statistics"): readers such as
 * delta-rs and DuckDB skip files with them, so a wrong minimum or maximum would hide rows. Every
 * bound written here is therefore exact or safely outside the data: strings are cut to a
 * 32-character prefix for the minimum (a prefix sorts before the value) and left out of the
 * maximum when longer; timestamps are written with millisecond precision, which is the precision
 * this writer stores; NaN leaves a column's bounds out.
 */

const STRING_PREFIX = 32;

/** Whether a column of this type carries min/max (booleans, binaries and nested types do not). */
export function hasBounds(type: DeltaType): boolean {
  if (typeof type !== "string") return false;
  return type !== "boolean" && type !== "binary";
}

/** Accumulates one column's bounds and null count from values in the writer's staged form. */
export class ColumnStats {
  min: number | string | undefined;
  max: number | string | undefined;
  nulls = 0;
  private boundsValid: boolean;

  constructor(readonly field: DeltaField) {
    this.boundsValid = hasBounds(field.type);
  }

  /** `value` is the staged value: a number (numbers, ms timestamps) or a string (strings, dates, decimals). */
  add(value: number | string | boolean | Uint8Array | null): void {
    if (value === null) {
      this.nulls++;
      return;
    }
    if (!this.boundsValid) return;
    if (typeof value === "number") {
      if (Number.isNaN(value)) {
        this.boundsValid = false;
        return;
      }
      if (this.min === undefined || value < (this.min as number)) this.min = value;
      if (this.max === undefined || value > (this.max as number)) this.max = value;
      return;
    }
    if (typeof value === "string") {
      if (this.field.type === "string" || this.field.type === "date") {
        if (this.min === undefined || value < (this.min as string)) this.min = value;
        if (this.max === undefined || value > (this.max as string)) this.max = value;
      } else {
        // decimals are staged as text; their order is numeric
        const n = Number(value);
        if (this.min === undefined || n < Number(this.min)) this.min = value;
        if (this.max === undefined || n > Number(this.max)) this.max = value;
      }
    }
  }

  /** A whole column of numbers at once: its bounds (infinite when it had none), nulls, and whether a NaN was seen. */
  addNumbers(min: number, max: number, nulls: number, nan: boolean): void {
    this.nulls += nulls;
    if (!this.boundsValid) return;
    if (nan) {
      this.boundsValid = false;
      return;
    }
    if (min > max) return;
    if (this.min === undefined || min < (this.min as number)) this.min = min;
    if (this.max === undefined || max > (this.max as number)) this.max = max;
  }

  /** Writes this column's entries into the stats object (nothing for a bound it cannot vouch for). */
  into(stats: FileStats): void {
    stats.nullCount[this.field.name] = this.nulls;
    if (!this.boundsValid || this.min === undefined || this.max === undefined) return;
    const min = boundJson(this.field.type, this.min, "min");
    const max = boundJson(this.field.type, this.max, "max");
    if (min !== undefined) stats.minValues[this.field.name] = min;
    if (max !== undefined) stats.maxValues[this.field.name] = max;
  }
}

/** The JSON form of a bound: ISO text for timestamps (ms), prefix rules for strings. */
export function boundJson(type: DeltaType, value: unknown, side: "min" | "max"): unknown {
  if (value === null || value === undefined) return undefined;
  switch (type) {
    case "timestamp":
    case "timestamp_ntz": {
      const ms = value instanceof Date ? value.getTime() : Number(value);
      if (!Number.isFinite(ms)) return undefined;
      const iso = new Date(ms).toISOString();
      return type === "timestamp_ntz" ? iso.slice(0, -1) : iso;
    }
    case "date":
      return value instanceof Date ? value.toISOString().slice(0, 10) : String(value);
    case "string": {
      const text = String(value);
      if (text.length <= STRING_PREFIX) return text;
      return side === "min" ? text.slice(0, STRING_PREFIX) : undefined;
    }
    default: {
      if (typeof value === "bigint") return Number.isSafeInteger(Number(value)) ? Number(value) : undefined;
      const n = typeof value === "number" ? value : Number(value);
      return Number.isFinite(n) ? n : undefined;
    }
  }
}

export function emptyStats(numRecords: number): FileStats {
  return { numRecords, minValues: {}, maxValues: {}, nullCount: {} };
}

/** numRecords of an add action's stats text, or undefined when absent or unreadable. */
export function parseStats(text: string | null | undefined): FileStats | undefined {
  if (!text) return undefined;
  try {
    const parsed = JSON.parse(text) as Partial<FileStats>;
    if (typeof parsed?.numRecords !== "number") return undefined;
    return {
      numRecords: parsed.numRecords,
      minValues: parsed.minValues ?? {},
      maxValues: parsed.maxValues ?? {},
      nullCount: (parsed.nullCount ?? {}) as Record<string, number>,
    };
  } catch (error) {
    // Statistics are optional in the protocol: a reader that cannot parse them reads without them.
    if (error instanceof SyntaxError) return undefined;
    throw error;
  }
}
