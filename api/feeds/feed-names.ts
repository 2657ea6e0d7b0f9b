/** The live feeds a WebSocket client can subscribe to. */
export const FEEDS = [
  "readings",
  "windows",
  "predictions",
  "drift",
  "alerts",
  "supervisor",
  "dead-letters",
  "news",
  "bars",
  "quotes",
  "models",
] as const;
export type FeedName = (typeof FEEDS)[number];

export function isFeedName(name: string): name is FeedName {
  return (FEEDS as readonly string[]).includes(name);
}
