import { ErrorCodes, PlatformError } from "../errors.ts";
import { appendPointer } from "./json-pointer.ts";

/**
 * The vocabulary of a compiled JSON Schema: a schema becomes a tree of checks, each a function of
 * a value that answers nothing when the value passes and a failure (where, which keyword, why)
 * when it does not. Every keyword family compiles into these checks with the same helpers: a
 * failure at the value's root moved under a child's pointer as it bubbles up, a malformed schema
 * refused with its pointer (SCHEMA_INVALID), and keyword values read with their type checked.
 *
 * The compiler (json-schema-validator.ts) and the array and object keywords
 * (json-schema-structure-keywords.ts) both build on this file.
 */

export interface ValidationFailure {
  /** where in the value, as a JSON pointer fragment: `#/readings/3/value` */
  readonly pointer: string;
  readonly keyword: string;
  readonly message: string;
}

export type ValueCheck = (value: unknown) => ValidationFailure | undefined;

export type CompileNode = (node: unknown, at: string) => ValueCheck;

export function fail(pointer: string, keyword: string, message: string): ValidationFailure {
  return { pointer, keyword, message };
}

export function under(token: string | number, failure: ValidationFailure): ValidationFailure {
  return { ...failure, pointer: appendPointer("#", token) + failure.pointer.slice(1) };
}

export function invalid(at: string, message: string): PlatformError {
  return new PlatformError(ErrorCodes.SCHEMA_INVALID, `${message} at ${at}`, { details: { pointer: at } });
}

export function numberKeyword(
  node: Readonly<Record<string, unknown>>,
  key: string,
  at: string,
): number | undefined {
  const value = node[key];
  if (value === undefined) return undefined;
  if (typeof value !== "number" || !Number.isFinite(value))
    throw invalid(appendPointer(at, key), `'${key}' must be a number`);
  return value;
}

export function compilePattern(source: string, at: string): RegExp {
  try {
    return new RegExp(source, "u");
  } catch (cause) {
    throw new PlatformError(
      ErrorCodes.SCHEMA_INVALID,
      `/${source}/ is not a valid regular expression at ${at}`,
      {
        cause,
        details: { pointer: at },
      },
    );
  }
}
