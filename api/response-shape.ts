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

/** the caller's `fields` and CSV choice, or the 400 to answer */
function shapeOf(c: Context): { fields: string[] | undefined; csv: boolean } | Response {
  const fields = fieldsOf(c.req.query("fields"));
  const csv = wantsCsv(c);
  const problem = fields instanceof Error ? fields : csv instanceof Error ? csv : undefined;
  if (problem) return c.json({ error: { code: ErrorCodes.BAD_REQUEST, message: problem.message } }, 400);
  return { fields: fields as string[] | undefined, csv: csv as boolean };
}

const CSV = "text/csv; charset=utf-8";

/** a page of a list, shaped as the caller asked (`meta`: the answer's other fields, JSON only) */
export function shapedList(
  c: Context,
  name: string,
  items: readonly object[],
  page: Page,
  meta: Readonly<Record<string, unknown>> = {},
): Response {
  const shape = shapeOf(c);
  if (shape instanceof Response) return shape;
  const chosen = shape.fields;
  if (shape.csv)
    return c.body(toCsv(items, chosen), 200, {
      "content-type": CSV,
      "x-total-count": String(page.total),
      "x-next-offset": page.next_offset === null ? "" : String(page.next_offset),
    });
  return c.json({ ...meta, [name]: chosen ? items.map((item) => pick(item, chosen)) : items, page });
}

/**
 * A table that is not paged (`{...meta, <name>: [...]}`: market bars, lake query rows), shaped as
 * the caller asked; CSV carries the items only, with `csvHeaders` (e.g. `x-truncated`) beside them.
 */
export function shapedItems(
  c: Context,
  name: string,
  items: readonly object[],
  meta: Readonly<Record<string, unknown>> = {},
  csvHeaders: Readonly<Record<string, string>> = {},
): Response {
  const shape = shapeOf(c);
  if (shape instanceof Response) return shape;
  const chosen = shape.fields;
  if (shape.csv) return c.body(toCsv(items, chosen), 200, { "content-type": CSV, ...csvHeaders });
  return c.json({ ...meta, [name]: chosen ? items.map((item) => pick(item, chosen)) : items });
}

/**
 * A table answered as `columns` + `rows` of values (the time series), shaped as the caller asked:
 * `fields` keeps those columns (in the table's order), CSV has the columns as its header line.
 */
export function shapedColumns(
  c: Context,
  columns: readonly string[],
  rows: readonly (readonly unknown[])[],
  meta: Readonly<Record<string, unknown>> = {},
  csvHeaders: Readonly<Record<string, string>> = {},
): Response {
  const shape = shapeOf(c);
  if (shape instanceof Response) return shape;
  const kept = columns.flatMap((column, i) => (shape.fields && !shape.fields.includes(column) ? [] : [i]));
  const names = kept.map((i) => columns[i]!);
  const values = shape.fields ? rows.map((row) => kept.map((i) => row[i])) : rows;
  if (shape.csv) {
    const items = values.map((row) => Object.fromEntries(names.map((name, i) => [name, row[i]])));
    return c.body(toCsv(items, names), 200, { "content-type": CSV, ...csvHeaders });
  }
  return c.json({ ...meta, columns: names, rows: values });
}
