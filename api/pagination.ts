/**
 * Offset pagination for the list routes: `?limit=&offset=` in, the page's items and a `page`
 * object out: `{"limit","offset","total","next_offset"}`, `next_offset` null on the last page.
 * Lists are live (sensors come and go, windows close), so a client walking pages may see an
 * item twice or miss one that moved; each page is consistent in itself.
 */
export const MAX_PAGE_LIMIT = 1000;
/** past the largest read model: an offset beyond it is an empty page, not an error */
const MAX_OFFSET = 1_000_000;

export interface PageRequest {
  readonly limit: number;
  readonly offset: number;
}

export interface Page {
  readonly limit: number;
  readonly offset: number;
  readonly total: number;
  readonly next_offset: number | null;
}

/** a whole number written plainly: no sign, exponent, fraction or leading zeros */
const WHOLE = /^(0|[1-9][0-9]{0,9})$/;

function wholeParam(name: string, raw: string | undefined, min: number, max: number, fallback: number) {
  if (raw === undefined) return fallback;
  const value = WHOLE.test(raw) ? Number(raw) : Number.NaN;
  if (!(value >= min && value <= max))
    return new Error(`${name} must be a whole number from ${min} to ${max}, got '${raw.slice(0, 40)}'`);
  return value;
}

export function pageRequestOf(
  query: (name: string) => string | undefined,
  defaultLimit: number,
): PageRequest | Error {
  const limit = wholeParam("limit", query("limit"), 1, MAX_PAGE_LIMIT, defaultLimit);
  if (limit instanceof Error) return limit;
  const offset = wholeParam("offset", query("offset"), 0, MAX_OFFSET, 0);
  if (offset instanceof Error) return offset;
  return { limit, offset };
}

export function pageOf<T>(items: readonly T[], request: PageRequest): { items: T[]; page: Page } {
  const end = request.offset + request.limit;
  return {
    items: items.slice(request.offset, end),
    page: {
      limit: request.limit,
      offset: request.offset,
      total: items.length,
      next_offset: end < items.length ? end : null,
    },
  };
}
