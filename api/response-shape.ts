import type { Context } from "hono";
import { ErrorCodes } from "../messages/errors.ts";
import type { Page } from "./pagination.ts";

/**
 * Response shaping for the tabular routes: `?fields=a,b` keeps those top-level fields of each
 * item, and `?format=csv` (or `Accept: text/csv` without `format`) answers RFC 4180 CSV with the
 * page in headers (`x-total-count`, `x-next-offset`). Nested values become JSON text in their
 * cell; a text cell that a spreadsheet would run as a formula (= + - @) is prefixed with `'`
 * (OWASP's CSV injection advice), since sensor ids and alert texts come from outside.
 */
const FIELD = /^[A-Za-z_][A-Za-z0-9_]{0,63}$/;
const MAX_FIELDS = 32;

export function fieldsOf(raw: string | undefined): string[] | undefined | Error {
  if (raw === undefined || raw === "") return undefined;
  const names = raw.split(",").map((f) => f.trim());
  if (names.length > MAX_FIELDS) return new Error(`fields names at most ${MAX_FIELDS} fields`);
  const bad = names.find((n) => !FIELD.test(n));
  if (bad !== undefined)
    return new Error(`fields must be comma-separated field names, got '${bad.slice(0, 40)}'`);
  return names;
}

function pick(item: object, fields: readonly string[]): Record<string, unknown> {
  const source = item as Record<string, unknown>;
  const picked: Record<string, unknown> = {};
  for (const field of fields) if (Object.hasOwn(source, field)) picked[field] = source[field];
  return picked;
}

function cell(value: unknown): string {
  if (value === undefined || value === null) return "";
  let text = typeof value === "object" ? JSON.stringify(value) : String(value);
  if (typeof value === "string" && /^[=+\-@\t\r]/.test(text)) text = `'${text}`;
  return /[",\r\n]/.test(text) ? `"${text.replaceAll('"', '""')}"` : text;
}

export function toCsv(items: readonly object[], fields?: readonly string[]): string {
  const columns = fields ?? [...new Set(items.flatMap((item) => Object.keys(item)))];
  const lines = [columns.map(cell).join(",")];
  for (const item of items) {
    const row = item as Record<string, unknown>;
    lines.push(columns.map((column) => cell(row[column])).join(","));
  }
  return `${lines.join("\r\n")}\r\n`;
}

function wantsCsv(c: Context): boolean | Error {
  const format = c.req.query("format");
  if (format === "csv") return true;
  if (format === "json") return false;
  if (format !== undefined) return new Error(`format must be json or csv, got '${format.slice(0, 40)}'`);
  return (c.req.header("accept") ?? "").toLowerCase().includes("text/csv");
}

/** a page of a list, shaped as the caller asked */
export function shapedList(c: Context, name: string, items: readonly object[], page: Page): Response {
  const fields = fieldsOf(c.req.query("fields"));
  const csv = wantsCsv(c);
  const problem = fields instanceof Error ? fields : csv instanceof Error ? csv : undefined;
  if (problem) return c.json({ error: { code: ErrorCodes.BAD_REQUEST, message: problem.message } }, 400);
  const chosen = fields as string[] | undefined;
  if (csv)
    return c.body(toCsv(items, chosen), 200, {
      "content-type": "text/csv; charset=utf-8",
      "x-total-count": String(page.total),
      "x-next-offset": page.next_offset === null ? "" : String(page.next_offset),
    });
  return c.json({ [name]: chosen ? items.map((item) => pick(item, chosen)) : items, page });
}
