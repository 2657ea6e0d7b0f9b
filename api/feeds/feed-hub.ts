/**
 * Live feeds over WebSocket. A client subscribes to feeds by name; every message on a feed
 * carries the feed's sequence number so a client can see a gap.
 *
 * Slow-client policy (documented in the README): each client has a bounded queue of
 * `maxQueued` messages waiting for the socket. When the socket pushes back, messages queue;
 * when the queue is full the oldest are dropped and the client is told with a
 * `{"type":"lagged","dropped":n}` notice once it catches up. A client that stays over its
 * queue for `evictAfterMs` is closed with code 1013 ("try again later"). Fast clients never
 * wait for slow ones.
 */
export const FEEDS = [
  "readings",
  "windows",
  "predictions",
  "drift",
  "alerts",
  "supervisor",
  "dead-letters",
] as const;
export type FeedName = (typeof FEEDS)[number];

export function isFeedName(name: string): name is FeedName {
  return (FEEDS as readonly string[]).includes(name);
}

/** The socket as the hub sees it; the Bun adapter wraps ServerWebSocket in one. */
export interface FeedSocket {
  /** > 0 sent, -1 queued by the socket (back-pressure), 0 dropped */
  send(text: string): number;
  bufferedAmount(): number;
  close(code: number, reason: string): void;
}

export interface FeedHubOptions {
  readonly maxQueued?: number;
  /** socket-level bytes buffered beyond which we stop handing it more */
  readonly maxBufferedBytes?: number;
  readonly evictAfterMs?: number;
  readonly now?: () => number;
}

interface FeedClient {
  readonly socket: FeedSocket;
  readonly feeds: Set<FeedName>;
  readonly queue: string[];
  dropped: number;
  overSince: number | undefined;
}

export class FeedHub {
  private readonly clients = new Map<number, FeedClient>();
  private readonly sequences = new Map<FeedName, number>();
  private nextClientId = 1;
  private readonly maxQueued: number;
  private readonly maxBufferedBytes: number;
  private readonly evictAfterMs: number;
  private readonly now: () => number;
  droppedTotal = 0;
  evictedTotal = 0;

  constructor(options: FeedHubOptions = {}) {
    this.maxQueued = options.maxQueued ?? 1000;
    this.maxBufferedBytes = options.maxBufferedBytes ?? 1 << 20;
    this.evictAfterMs = options.evictAfterMs ?? 10_000;
    this.now = options.now ?? Date.now;
  }

  connect(socket: FeedSocket): number {
    const id = this.nextClientId++;
    this.clients.set(id, { socket, feeds: new Set(), queue: [], dropped: 0, overSince: undefined });
    return id;
  }

  disconnect(id: number): void {
    this.clients.delete(id);
  }

  get clientCount(): number {
    return this.clients.size;
  }

  /** Handles a client's control message: {"op":"subscribe"|"unsubscribe","feeds":[...]} */
  control(id: number, text: string): void {
    const client = this.clients.get(id);
    if (!client) return;
    let request: { op?: unknown; feeds?: unknown };
    try {
      request = JSON.parse(text) as { op?: unknown; feeds?: unknown };
    } catch (error) {
      this.reply(client, { type: "error", code: "MALFORMED_JSON", message: String(error) });
      return;
    }
    const feeds = Array.isArray(request.feeds) ? request.feeds.filter((f) => typeof f === "string") : [];
    const unknown = feeds.filter((f) => !isFeedName(f));
    if ((request.op !== "subscribe" && request.op !== "unsubscribe") || unknown.length > 0) {
      this.reply(client, {
        type: "error",
        code: "SCHEMA_VIOLATION",
        message: `expected {"op":"subscribe"|"unsubscribe","feeds":[${FEEDS.join(", ")}]}; unknown feeds: ${unknown.join(", ") || "none"}`,
      });
      return;
    }
    for (const feed of feeds as FeedName[]) {
      if (request.op === "subscribe") client.feeds.add(feed);
      else client.feeds.delete(feed);
    }
    this.reply(client, { type: "subscribed", feeds: [...client.feeds] });
  }

  /** Publishes one message to every subscriber of the feed. */
  publish(feed: FeedName, data: unknown): void {
    const seq = (this.sequences.get(feed) ?? 0) + 1;
    this.sequences.set(feed, seq);
    let text: string | undefined;
    for (const client of this.clients.values()) {
      if (!client.feeds.has(feed)) continue;
      text ??= JSON.stringify({ feed, seq, data });
      this.enqueue(client, text);
    }
  }

  /** Called when a socket drains (Bun's `drain` handler) and periodically. */
  flush(id?: number): void {
    if (id !== undefined) {
      const client = this.clients.get(id);
      if (client) this.pump(client);
      return;
    }
    for (const client of this.clients.values()) this.pump(client);
  }

  private reply(client: FeedClient, message: unknown): void {
    this.enqueue(client, JSON.stringify(message));
  }

  private enqueue(client: FeedClient, text: string): void {
    client.queue.push(text);
    if (client.queue.length > this.maxQueued) {
      const excess = client.queue.length - this.maxQueued;
      client.queue.splice(0, excess);
      client.dropped += excess;
      this.droppedTotal += excess;
    }
    this.pump(client);
  }

  private pump(client: FeedClient): void {
    if (client.dropped > 0 && client.socket.bufferedAmount() < this.maxBufferedBytes) {
      const notice = JSON.stringify({ type: "lagged", dropped: client.dropped });
      client.dropped = 0;
      client.socket.send(notice);
    }
    while (client.queue.length > 0 && client.socket.bufferedAmount() < this.maxBufferedBytes) {
      const text = client.queue.shift()!;
      if (client.socket.send(text) === 0) {
        client.dropped++;
        this.droppedTotal++;
      }
    }
    const backlogged = client.queue.length >= this.maxQueued;
    if (!backlogged) {
      client.overSince = undefined;
      return;
    }
    const now = this.now();
    client.overSince ??= now;
    if (now - client.overSince >= this.evictAfterMs) {
      this.evictedTotal++;
      for (const [id, candidate] of this.clients) if (candidate === client) this.clients.delete(id);
      client.socket.close(1013, "client too slow for its feeds; reconnect and resubscribe");
    }
  }
}
