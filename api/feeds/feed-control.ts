import { z } from "zod";
import { ErrorCodes } from "../../messages/errors.ts";
import { FEEDS, type FeedName } from "./feed-names.ts";

/**
 * The one message a feed client may send: `{"op":"subscribe"|"unsubscribe","feeds":[...]}`.
 * Anything a browser page can put on the wire arrives here (null, arrays, numbers, deep
 * nesting, megabytes of text), so the text is size-checked before it is parsed and the parsed
 * value is checked against a schema before anything reads a field of it.
 */
export const MAX_CONTROL_BYTES = 4096;
/** every feed twice over is more than any honest client sends */
export const MAX_CONTROL_FEEDS = FEEDS.length * 2;

const FeedControl = z.strictObject({
  op: z.enum(["subscribe", "unsubscribe"]),
  feeds: z.array(z.enum(FEEDS)).min(1).max(MAX_CONTROL_FEEDS),
});
export interface FeedControl {
  readonly op: "subscribe" | "unsubscribe";
  readonly feeds: readonly FeedName[];
}

export interface FeedControlError {
  readonly type: "error";
  readonly code: string;
  readonly message: string;
}

export const CONTROL_SHAPE = `{"op":"subscribe"|"unsubscribe","feeds":[1..${MAX_CONTROL_FEEDS} of ${FEEDS.join(", ")}]}`;

function rejection(code: string, message: string): FeedControlError {
  return { type: "error", code, message };
}

export function parseFeedControl(text: string): FeedControl | FeedControlError {
  // length in UTF-16 units bounds the bytes to 3x; the socket's own cap bounds the rest
  if (text.length > MAX_CONTROL_BYTES)
    return rejection(
      ErrorCodes.PAYLOAD_TOO_LARGE,
      `a control message is at most ${MAX_CONTROL_BYTES} characters, got ${text.length}`,
    );
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    // the parser's message names a position, never anything of ours
    const why = error instanceof SyntaxError ? error.message : "unparseable";
    return rejection(
      ErrorCodes.MALFORMED_JSON,
      `a control message must be JSON (${why}); expected ${CONTROL_SHAPE}`,
    );
  }
  const parsed = FeedControl.safeParse(value);
  if (!parsed.success) {
    const unknown = unknownFeedsOf(value);
    const issue = parsed.error.issues[0];
    const where = issue && issue.path.length > 0 ? ` at ${issue.path.join(".")}` : "";
    return rejection(
      ErrorCodes.SCHEMA_VIOLATION,
      `expected ${CONTROL_SHAPE}${unknown.length > 0 ? `; unknown feeds: ${unknown.join(", ")}` : ""}${issue ? `; ${issue.message}${where}` : ""}`,
    );
  }
  return parsed.data;
}

export function isFeedControlError(value: FeedControl | FeedControlError): value is FeedControlError {
  return "type" in value;
}

/** names the client got wrong, bounded so the reply stays small */
function unknownFeedsOf(value: unknown): string[] {
  if (typeof value !== "object" || value === null || !("feeds" in value)) return [];
  const feeds = (value as { feeds: unknown }).feeds;
  if (!Array.isArray(feeds)) return [];
  return feeds
    .slice(0, MAX_CONTROL_FEEDS)
    .filter((f): f is string => typeof f === "string" && !(FEEDS as readonly string[]).includes(f))
    .map((f) => JSON.stringify(f.slice(0, 40)));
}
