import { encode as msgpackEncode } from "@msgpack/msgpack";

/**
 * Alpaca's market-data stream v2 on the wire (docs.alpaca.markets, "Real-time Stock Pricing
 * Data"). Every server message is an array of frames; each frame has a type `T`:
 *
 *   control   {"T":"success","msg":"connected" | "authenticated"}
 *             {"T":"error","code":400..500,"msg":"..."}
 *             {"T":"subscription","trades":[..],"quotes":[..],"bars":[..], ...every channel}
 *   trade     {"T":"t","S":"AAPL","i":96921,"x":"V","p":126.55,"s":1,"t":<time>,"c":["@"],"z":"C"}
 *   quote     {"T":"q","S":"AAPL","bx":"V","bp":126.5,"bs":3,"ax":"V","ap":126.6,"as":2,"t":<time>,"c":["R"],"z":"C"}
 *   bar       {"T":"b","S":"AAPL","o":..,"h":..,"l":..,"c":..,"v":..,"t":<minute start>,"n":..,"vw":..}
 *
 * Client messages are single objects: {"action":"auth","key","secret"},
 * {"action":"subscribe"|"unsubscribe","trades":[..],"quotes":[..],"bars":[..]}.
 * Frames are JSON text, or msgpack binary when the client asked with the upgrade request's
 * `Content-Type: application/msgpack` (what the official SDK does). `<time>` is an RFC-3339 string
 * in JSON and a msgpack timestamp (extension -1) in msgpack.
 */
export const STREAM_ERRORS = {
  INVALID_SYNTAX: { code: 400, msg: "invalid syntax" },
  NOT_AUTHENTICATED: { code: 401, msg: "not authenticated" },
  AUTH_FAILED: { code: 402, msg: "auth failed" },
  ALREADY_AUTHENTICATED: { code: 403, msg: "already authenticated" },
  AUTH_TIMEOUT: { code: 404, msg: "auth timeout" },
  SYMBOL_LIMIT_EXCEEDED: { code: 405, msg: "symbol limit exceeded" },
  CONNECTION_LIMIT_EXCEEDED: { code: 406, msg: "connection limit exceeded" },
  SLOW_CLIENT: { code: 407, msg: "slow client" },
  INSUFFICIENT_SUBSCRIPTION: { code: 409, msg: "insufficient subscription" },
  INVALID_SUBSCRIBE_ACTION: { code: 410, msg: "invalid subscribe action for this feed" },
  INTERNAL: { code: 500, msg: "internal error" },
} as const;
export type StreamError = (typeof STREAM_ERRORS)[keyof typeof STREAM_ERRORS];

export type WireFormat = "json" | "msgpack";

/** the channels a stock stream serves here */
export const STREAM_CHANNELS = ["trades", "quotes", "bars"] as const;
export type StreamChannel = (typeof STREAM_CHANNELS)[number];
/** every channel a subscription frame lists (the unused ones empty), as Alpaca answers */
const ALL_CHANNELS = [
  "trades",
  "quotes",
  "bars",
  "updatedBars",
  "dailyBars",
  "statuses",
  "lulds",
  "corrections",
  "cancelErrors",
] as const;

export type Frame = Record<string, unknown>;

export const errorFrame = (error: StreamError): Frame => ({ T: "error", code: error.code, msg: error.msg });
export const successFrame = (msg: "connected" | "authenticated"): Frame => ({ T: "success", msg });

export function subscriptionFrame(subscribed: Readonly<Record<StreamChannel, readonly string[]>>): Frame {
  const frame: Frame = { T: "subscription" };
  for (const channel of ALL_CHANNELS)
    frame[channel] = (STREAM_CHANNELS as readonly string[]).includes(channel)
      ? [...subscribed[channel as StreamChannel]]
      : [];
  return frame;
}

/** a time field: RFC-3339 text for JSON, a Date (msgpack timestamp extension) for msgpack */
const timeOf = (epochMs: number, format: WireFormat) =>
  format === "json" ? new Date(epochMs).toISOString() : new Date(epochMs);

export interface WireTrade {
  readonly symbol: string;
  readonly id: number;
  readonly price: number;
  readonly size: number;
  readonly timestamp: number;
}

export interface WireQuote {
  readonly symbol: string;
  readonly bidPrice: number;
  readonly bidSize: number;
  readonly askPrice: number;
  readonly askSize: number;
  readonly timestamp: number;
}

export interface WireBar {
  readonly symbol: string;
  readonly start: number;
  readonly open: number;
  readonly high: number;
  readonly low: number;
  readonly close: number;
  readonly volume: number;
  readonly tradeCount: number;
  readonly vwap: number;
}

export const tradeFrame = (t: WireTrade, format: WireFormat): Frame => ({
  T: "t",
  S: t.symbol,
  i: t.id,
  x: "V",
  p: t.price,
  s: t.size,
  t: timeOf(t.timestamp, format),
  c: ["@"],
  z: "C",
});

export const quoteFrame = (q: WireQuote, format: WireFormat): Frame => ({
  T: "q",
  S: q.symbol,
  bx: "V",
  bp: q.bidPrice,
  bs: q.bidSize,
  ax: "V",
  ap: q.askPrice,
  as: q.askSize,
  t: timeOf(q.timestamp, format),
  c: ["R"],
  z: "C",
});

export const barFrame = (b: WireBar, format: WireFormat): Frame => ({
  T: "b",
  S: b.symbol,
  o: b.open,
  h: b.high,
  l: b.low,
  c: b.close,
  v: b.volume,
  t: timeOf(b.start, format),
  n: b.tradeCount,
  vw: b.vwap,
});

export function encodeFrames(frames: readonly Frame[], format: WireFormat): string | Uint8Array {
  return format === "json" ? JSON.stringify(frames) : msgpackEncode(frames);
}
