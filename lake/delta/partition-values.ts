import { ErrorCodes, PlatformError } from "../../messages/errors.ts";
import type { DeltaField } from "./schema.ts";

/**
 * Partition values (PROTOCOL.md "Partition Value Serialization"): each add action carries its
 * partition columns as strings, null for a null value; the data files leave those columns out.
 * Files live under Hive-style directories `col=value/`, with the characters Hive escapes written
 * as %XX, and the add action's `path` is that relative path URI-encoded.
 */

/** The protocol's text of a partition value, or null. */
export function serializePartitionValue(field: DeltaField, value: unknown): string | null {
  if (value === null || value === undefined) return null;
  const bad = (): never => {
    throw new PlatformError(
      ErrorCodes.SCHEMA_VIOLATION,
      `partition column ${field.name} (${JSON.stringify(field.type)}) cannot hold a ${typeof value}`,
    );
  };
  switch (field.type) {
    case "string":
      // Spark and delta-rs store an empty string partition as null (its directory is the default one)
      if (typeof value !== "string") return bad();
      return value === "" ? null : value;
    case "boolean":
      return typeof value === "boolean" ? String(value) : bad();
    case "date": {
      if (value instanceof Date && Number.isFinite(value.getTime())) return value.toISOString().slice(0, 10);
      if (typeof value === "string" && /^\d{4}-\d{2}-\d{2}$/.test(value)) return value;
      return bad();
    }
    case "timestamp":
    case "timestamp_ntz": {
      const ms =
        value instanceof Date
          ? value.getTime()
          : typeof value === "number"
            ? value
            : Date.parse(String(value));
      if (!Number.isFinite(ms)) return bad();
      // "2024-01-01 12:00:00.123000": the protocol's form, microseconds, UTC
      return `${new Date(ms).toISOString().replace("T", " ").slice(0, 23)}000`;
    }
    default: {
      const n = typeof value === "bigint" ? Number(value) : value;
      if (typeof n !== "number" || !Number.isFinite(n)) return bad();
      if (field.type !== "double" && field.type !== "float" && !Number.isInteger(n)) return bad();
      return String(n);
    }
  }
}

/** The characters Hive (and so Spark and delta-rs) escape in a partition directory name. */
const HIVE_SPECIAL = new Set(['"', "#", "%", "'", "*", "/", ":", "=", "?", "\\", "{", "[", "]", "^"]);

function hiveEscape(text: string): string {
  let out = "";
  for (const c of text) {
    const code = c.charCodeAt(0);
    out +=
      code < 0x20 || code === 0x7f || HIVE_SPECIAL.has(c)
        ? `%${code.toString(16).toUpperCase().padStart(2, "0")}`
        : c;
  }
  return out;
}

/** `col=value/col2=value2` of a file's partition values, as directory names on disk. */
export function partitionDirectory(
  columns: readonly string[],
  values: Readonly<Record<string, string | null>>,
): string {
  return columns
    .map((c) => {
      const v = values[c];
      return `${hiveEscape(c)}=${v === null || v === undefined || v === "" ? "__HIVE_DEFAULT_PARTITION__" : hiveEscape(v)}`;
    })
    .join("/");
}

/** The add action's `path` of a file at `relative` on disk. */
export function encodeDataPath(relative: string): string {
  return relative
    .split("/")
    .map((segment) => encodeURIComponent(segment).replaceAll("%3D", "="))
    .join("/");
}

/** The relative path on disk of an add/remove action's `path`. */
export function decodeDataPath(path: string): string {
  try {
    return path.split("/").map(decodeURIComponent).join("/");
  } catch (cause) {
    throw new PlatformError(ErrorCodes.DELTA_LOG_CORRUPT, "a file path in the log is not a valid URI", {
      cause,
    });
  }
}
