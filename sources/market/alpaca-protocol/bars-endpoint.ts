import type { MarketModel, SimBar } from "../simulator/market-model.ts";
import type { FixedWindowLimiter } from "./rate-limiter.ts";

/**
 * Alpaca's historical bars endpoints (data API v2), served from the simulated market:
 *
 *   GET /v2/stocks/bars?symbols=A,B&timeframe=1Day&start&end&limit&page_token&adjustment&feed&sort
 *       -> {"bars":{"A":[bar...],"B":[...]},"next_page_token":string|null}
 *   GET /v2/stocks/{symbol}/bars?timeframe=...   -> {"bars":[bar...],"symbol":"A","next_page_token":...}
 *
 * A bar is {"t":RFC-3339,"o","h","l","c","v","n","vw"}. Results are ordered by symbol, then time;
 * a page holds at most `limit` bars (default 1,000, at most 10,000) and `next_page_token` names
 * where the next page starts (opaque to clients: base64url of symbol and time here). Timeframes
 * are `<n>Min` (1-59), `<n>Hour` (1-23) and `1Day` (also `T`/`H`/`D`); `adjustment` is raw, split,
 * dividend or all (the simulator has no corporate actions: all are the same series).
 * Errors answer as Alpaca does: 401/403 {"message"}, 422 for a bad parameter, 429 past the rate
 * limit with X-RateLimit-* headers (and Retry-After, which the SDK honours).
 */
export interface BarsEndpointDeps {
  readonly model: MarketModel;
  readonly limiter: FixedWindowLimiter;
  readonly authorize: (key: string, secret: string) => boolean;
  readonly knownSymbol: (symbol: string) => boolean;
  readonly now: () => number;
}

const MAX_LIMIT = 10_000;
const ADJUSTMENTS = new Set(["raw", "split", "dividend", "all"]);
const SYMBOL = /^[A-Z][A-Z0-9.-]{0,15}$/;

const json = (status: number, body: unknown, headers: Record<string, string> = {}) =>
  new Response(JSON.stringify(body), { status, headers: { "content-type": "application/json", ...headers } });
const unprocessable = (message: string) => json(422, { code: 42210000, message });

/** `15Min`, `1Hour`, `1Day`... in milliseconds, or undefined */
export function timeframeMs(text: string): number | undefined {
  const match = /^(\d{1,2})(Min|T|Hour|H|Day|D)$/.exec(text);
  if (!match) return undefined;
  const n = Number(match[1]);
  const unit = match[2]!;
  if (unit === "Min" || unit === "T") return n >= 1 && n <= 59 ? n * 60_000 : undefined;
  if (unit === "Hour" || unit === "H") return n >= 1 && n <= 23 ? n * 3_600_000 : undefined;
  return n === 1 ? 86_400_000 : undefined;
}

function timeParam(text: string | null): number | undefined | Error {
  if (text === null || text === "") return undefined;
  // RFC-3339 or a date (YYYY-MM-DD), as Alpaca accepts
  if (!/^\d{4}-\d{2}-\d{2}([T ]\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:\d{2})?)?$/.test(text))
    return new Error(`invalid time '${text.slice(0, 40)}'`);
  const ms = Date.parse(text.length === 10 ? `${text}T00:00:00Z` : text);
  return Number.isNaN(ms) ? new Error(`invalid time '${text.slice(0, 40)}'`) : ms;
}

function pageToken(symbol: string, start: number): string {
  return Buffer.from(`${symbol}|${start}`).toString("base64url");
}

function readPageToken(token: string): { symbol: string; start: number } | undefined {
  const text = Buffer.from(token, "base64url").toString("utf8");
  const match = /^([A-Z][A-Z0-9.-]{0,15})\|(\d{1,16})$/.exec(text);
  return match ? { symbol: match[1]!, start: Number(match[2]) } : undefined;
}

const wireBar = (bar: SimBar) => ({
  t: new Date(bar.start).toISOString().replace(".000Z", "Z"),
  o: bar.open,
  h: bar.high,
  l: bar.low,
  c: bar.close,
  v: bar.volume,
  n: bar.tradeCount,
  vw: bar.vwap,
});

export function handleBarsRequest(request: Request, deps: BarsEndpointDeps): Response {
  const url = new URL(request.url);
  const key = request.headers.get("apca-api-key-id");
  const secret = request.headers.get("apca-api-secret-key");
  if (key === null || secret === null) return json(401, { message: "unauthorized." });
  if (!deps.authorize(key, secret)) return json(403, { message: "forbidden." });
  const verdict = deps.limiter.take(key, deps.now());
  const rateHeaders = {
    "x-ratelimit-limit": String(verdict.limit),
    "x-ratelimit-remaining": String(verdict.remaining),
    "x-ratelimit-reset": String(Math.ceil(verdict.resetAt / 1000)),
  };
  if (!verdict.allowed)
    return json(
      429,
      { message: "too many requests." },
      {
        ...rateHeaders,
        "retry-after": String(Math.max(1, Math.ceil((verdict.resetAt - deps.now()) / 1000))),
      },
    );

  const single = /^\/v2\/stocks\/([^/]+)\/bars$/.exec(url.pathname);
  const q = url.searchParams;
  const symbolsText = single ? decodeURIComponent(single[1]!) : (q.get("symbols") ?? "");
  const symbols = [
    ...new Set(
      symbolsText
        .split(",")
        .map((s) => s.trim())
        .filter((s) => s !== ""),
    ),
  ].sort();
  if (symbols.length === 0) return unprocessable("symbols is required");
  if (symbols.length > 2000) return unprocessable("too many symbols");
  const bad = symbols.find((s) => !SYMBOL.test(s));
  if (bad !== undefined) return unprocessable(`invalid symbol: ${bad.slice(0, 20)}`);
  const tf = timeframeMs(q.get("timeframe") ?? "");
  if (tf === undefined) return unprocessable("invalid timeframe");
  const adjustment = q.get("adjustment") ?? "raw";
  if (!ADJUSTMENTS.has(adjustment)) return unprocessable("invalid adjustment");
  const limitText = q.get("limit");
  const limit = limitText === null ? 1000 : Number(limitText);
  if (!Number.isInteger(limit) || limit < 1 || limit > MAX_LIMIT) return unprocessable("invalid limit");
  const sort = q.get("sort") ?? "asc";
  if (sort !== "asc") return unprocessable("only sort=asc is supported by the simulator");
  const start = timeParam(q.get("start"));
  const end = timeParam(q.get("end"));
  if (start instanceof Error) return unprocessable(start.message);
  if (end instanceof Error) return unprocessable(end.message);
  const now = deps.now();
  const from = start ?? now - (now % 86_400_000);
  const to = Math.min(end ?? now, now);
  if (to < from) return unprocessable("end should not be before start.");

  let resume: { symbol: string; start: number } | undefined;
  const token = q.get("page_token");
  if (token !== null && token !== "") {
    resume = readPageToken(token);
    if (!resume || !symbols.includes(resume.symbol)) return unprocessable("invalid page token");
  }

  const bars: Record<string, ReturnType<typeof wireBar>[]> = {};
  let count = 0;
  let next: string | null = null;
  outer: for (const symbol of symbols) {
    if (resume && symbol < resume.symbol) continue;
    if (!deps.knownSymbol(symbol)) continue;
    const fromHere = resume && symbol === resume.symbol ? Math.max(from, resume.start) : from;
    // bars end before `to`: a bar still forming is not history yet
    for (const bar of deps.model.iterateBars(symbol, tf, fromHere, to + 1)) {
      if (bar.start + tf > now) break;
      if (count === limit) {
        next = pageToken(symbol, bar.start);
        break outer;
      }
      const list = bars[symbol] ?? [];
      bars[symbol] = list;
      list.push(wireBar(bar));
      count++;
    }
  }
  if (single)
    return json(
      200,
      { bars: bars[symbols[0]!] ?? [], symbol: symbols[0], next_page_token: next },
      rateHeaders,
    );
  return json(200, { bars, next_page_token: next }, rateHeaders);
}
