import { ErrorCodes } from "../../messages/errors.ts";
import { TokenBuckets } from "../gateway/rate-limiter.ts";
import { isFeedControlError, parseFeedControl } from "./feed-control.ts";
import type { FeedName } from "./feed-names.ts";

/**
 * Live feeds over WebSocket. A client subscribes to feeds by name; every message on a feed
 * carries the feed's sequence number so a client can see a gap.
 *
 * Slow-client policy (documented in the README): each client has a bounded queue of
 * `maxQueued` messages waiting for the socket. When the socket pushes back, messages queue;
 * when the queue is full the oldest are dropped and the client is told with a
 * `{"type":"lagged","dropped":n}` notice once it catches up. A client that stays over its
 * queue for `evictAfterMs` is evicted: it gets nothing more, and is closed with code 1013
 * ("try again later") as soon as its socket has room for the close frame. Fast clients never
 * wait for slow ones.
 *
 * Why the close waits for room: a close frame is written behind everything already buffered
 * for the socket. Closing a socket whose buffer is full starts Bun's (uWebSockets') close
 * timer, which drops the connection with the buffer, close frame included, some seconds later
 * (measured: ~16 s at the default idleTimeout), so a client that read again after that saw
 * its connection cut (1006) instead of 1013. The hub therefore closes on the socket's drain,
 * when the frame goes straight to the kernel, and only terminates a socket that has not
 * drained within `closeGraceMs` (nobody is reading it; no frame could reach anyone).
 *
 * Sends are coalesced: what is published during one synchronous stretch of the event loop (the
 * engine routes a whole ring drain of outputs in one) is queued, and written to each client
 * after it, in one corked batch: one socket write per client instead of one per message, which
 * at 20,000 window updates a second cost the main thread ~0.8 us a message (measured with a
 * real Bun socket: 0.87 -> 0.15 ms of CPU per 1,000 sends). Replies to a client's own control
 * messages go out at once.
 *
 * Control messages (and binary frames) are rate-limited per client, as HTTP requests are per
 * caller: a WebSocket frame costs no handshake, so one client could otherwise send millions a
 * second and keep the main thread answering them. Over the rate a frame is ignored, and the
 * client is told once per throttled stretch, not once per frame (that would be the flood's work
 * again). While a client is known to be throttled its frames are dropped on a clock compare,
 * before the token bucket; one that keeps sending through `maxIgnoredControls` frames in a row
 * after being told is closed with 1008 (FLOODING_CLIENT_CLOSE): ignoring a flood still costs Bun
 * a decode and the hub a call per frame (2 million a second held /health at 45-80 ms), and only
 * a closed socket stops that. A client that read its RATE_LIMITED never gets there.
 */

/** The socket as the hub sees it; the Bun adapter wraps ServerWebSocket in one. */
export interface FeedSocket {
  /** > 0 sent, -1 queued by the socket (back-pressure), 0 dropped */
  send(text: string): number;
  bufferedAmount(): number;
  close(code: number, reason: string): void;
  /** cut the connection without a close frame (the frame cannot be written) */
  terminate(): void;
  /** run `write`, whose sends go out together (Bun's `ServerWebSocket.cork`); absent: one by one */
  cork?(write: () => void): void;
}

export interface FeedHubOptions {
  readonly maxQueued?: number;
  /** socket-level bytes buffered beyond which we stop handing it more */
  readonly maxBufferedBytes?: number;
  readonly evictAfterMs?: number;
  /** how long an evicted client's socket may take to drain before it is cut without a frame */
  readonly closeGraceMs?: number;
  /** control messages per second per client, and the burst; default 20 and 40 */
  readonly controlsPerSecond?: number;
  readonly controlBurst?: number;
  /** frames ignored in a row over the rate before the client is closed with 1008; default 1000 */
  readonly maxIgnoredControls?: number;
  readonly now?: () => number;
}

export interface FeedHubStats {
  readonly clients: number;
  readonly dropped: number;
  /** slow clients evicted, by how they left: with the 1013 frame, or cut after the grace */
  readonly evictedClosed: number;
  readonly evictedTerminated: number;
  /** evicted clients whose close frame waits for room in their socket */
  readonly evicting: number;
  /** control messages answered with an error */
  readonly rejectedControls: number;
  /** clients closed with 1008 for flooding past their control rate */
  readonly closedFlooding: number;
}

export const SLOW_CLIENT_CLOSE = {
  code: 1013,
  reason: "client too slow for its feeds; reconnect and resubscribe",
} as const;

export const FLOODING_CLIENT_CLOSE = {
  code: 1008,
  reason: "too many messages over the control rate; reconnect and stay within it",
} as const;

interface FeedClient {
  readonly socket: FeedSocket;
  /** the feeds the client's role may receive (the gateway's FEED_POLICY) */
  readonly mayReceive: (feed: FeedName) => boolean;
  readonly feeds: Set<FeedName>;
  readonly queue: string[];
  dropped: number;
  overSince: number | undefined;
  /** set once evicted: waiting for room to write the close frame */
  evictedAt: number | undefined;
  /** over its control rate and already told so */
  throttled: boolean;
  /** no frame of it is admitted before this time (the bucket's own answer when it was told) */
  throttledUntil: number;
  /** frames ignored since its last admitted one */
  ignored: number;
}

export class FeedHub {
  private readonly clients = new Map<number, FeedClient>();
  private readonly sequences = new Map<FeedName, number>();
  private nextClientId = 1;
  private readonly maxQueued: number;
  private readonly maxBufferedBytes: number;
  private readonly evictAfterMs: number;
  private readonly closeGraceMs: number;
  private readonly now: () => number;
  droppedTotal = 0;
  private evictedClosed = 0;
  private evictedTerminated = 0;
  private rejectedControls = 0;
  private closedFlooding = 0;
  private readonly controlRate: TokenBuckets;
  private readonly controlsPerSecond: number;
  private readonly maxIgnoredControls: number;
  /** clients with published messages waiting for the end of the current synchronous stretch */
  private readonly waiting = new Set<number>();
  private sendScheduled = false;

  constructor(options: FeedHubOptions = {}) {
    this.maxQueued = options.maxQueued ?? 1000;
    this.maxBufferedBytes = options.maxBufferedBytes ?? 1 << 20;
    this.evictAfterMs = options.evictAfterMs ?? 10_000;
    this.closeGraceMs = options.closeGraceMs ?? 30_000;
    this.now = options.now ?? Date.now;
    this.controlsPerSecond = options.controlsPerSecond ?? 20;
    this.maxIgnoredControls = options.maxIgnoredControls ?? 1000;
    this.controlRate = new TokenBuckets({
      perSecond: this.controlsPerSecond,
      burst: options.controlBurst ?? 40,
      // a forgotten client starts again with a full bucket: at most a burst more
      maxKeys: 100_000,
      now: this.now,
    });
  }

  connect(socket: FeedSocket, mayReceive: (feed: FeedName) => boolean = () => true): number {
    const id = this.nextClientId++;
    this.clients.set(id, {
      socket,
      mayReceive,
      feeds: new Set(),
      queue: [],
      dropped: 0,
      overSince: undefined,
      evictedAt: undefined,
      throttled: false,
      throttledUntil: 0,
      ignored: 0,
    });
    return id;
  }

  disconnect(id: number): void {
    this.clients.delete(id);
  }

  get clientCount(): number {
    return this.clients.size;
  }

  /** evicted clients included: evictedClosed + evictedTerminated */
  get evictedTotal(): number {
    return this.evictedClosed + this.evictedTerminated;
  }

  stats(): FeedHubStats {
    return {
      clients: this.clients.size,
      dropped: this.droppedTotal,
      evictedClosed: this.evictedClosed,
      evictedTerminated: this.evictedTerminated,
      evicting: [...this.clients.values()].filter((c) => c.evictedAt !== undefined).length,
      rejectedControls: this.rejectedControls,
      closedFlooding: this.closedFlooding,
    };
  }

  /** Handles a client's control message: {"op":"subscribe"|"unsubscribe","feeds":[...]} */
  control(id: number, text: string): void {
    const client = this.clients.get(id);
    if (!client || client.evictedAt !== undefined || !this.admitControl(id, client)) return;
    const request = parseFeedControl(text);
    if (isFeedControlError(request)) {
      this.rejectedControls++;
      this.reply(id, client, request);
      return;
    }
    const forbidden = request.op === "subscribe" ? request.feeds.filter((f) => !client.mayReceive(f)) : [];
    if (forbidden.length > 0) {
      this.rejectedControls++;
      this.reply(id, client, {
        type: "error",
        code: ErrorCodes.FORBIDDEN,
        message: `your role may not subscribe to: ${forbidden.join(", ")}`,
      });
      return;
    }
    for (const feed of request.feeds) {
      if (request.op === "subscribe") client.feeds.add(feed);
      else client.feeds.delete(feed);
    }
    this.reply(id, client, { type: "subscribed", feeds: [...client.feeds] });
  }

  /** Answers a frame the hub cannot take (a binary frame, ...) with an error message. */
  refuse(id: number, code: string, message: string): void {
    const client = this.clients.get(id);
    if (!client || client.evictedAt !== undefined || !this.admitControl(id, client)) return;
    this.rejectedControls++;
    this.reply(id, client, { type: "error", code, message });
  }

  /**
   * Counts a client's ping against its control rate. Bun answers every ping with a pong itself,
   * before any code of ours, so a ping flood cannot be made cheaper here, only ended: a client
   * that keeps pinging past its rate is closed like any other flood.
   */
  ping(id: number): void {
    const client = this.clients.get(id);
    if (!client || client.evictedAt !== undefined) return;
    this.admitControl(id, client);
  }

  /** whether a client's frame is within its control rate; the first one over is answered */
  private admitControl(id: number, client: FeedClient): boolean {
    const now = this.now();
    // a flood's frames end here, on a compare, until the time the bucket gave
    if (now < client.throttledUntil) return this.ignore(id, client);
    const admission = this.controlRate.take(String(id));
    if (admission.allowed) {
      client.throttled = false;
      client.ignored = 0;
      return true;
    }
    client.throttledUntil = now + admission.retryAfterMs;
    if (client.throttled) return this.ignore(id, client);
    this.rejectedControls++;
    client.throttled = true;
    client.ignored = 1;
    this.reply(id, client, {
      type: "error",
      code: ErrorCodes.RATE_LIMITED,
      message: `at most ${this.controlsPerSecond} control messages a second; frames are ignored for the next ${admission.retryAfterMs} ms`,
    });
    return false;
  }

  private ignore(id: number, client: FeedClient): false {
    this.rejectedControls++;
    if (++client.ignored > this.maxIgnoredControls) {
      this.clients.delete(id);
      this.closedFlooding++;
      client.socket.close(FLOODING_CLIENT_CLOSE.code, FLOODING_CLIENT_CLOSE.reason);
    }
    return false;
  }

  /**
   * Publishes one message to every subscriber of the feed: queued now (a slow client's oldest
   * messages are dropped at once), written once the current synchronous work is done.
   */
  publish(feed: FeedName, data: unknown): void {
    const seq = (this.sequences.get(feed) ?? 0) + 1;
    this.sequences.set(feed, seq);
    let text: string | undefined;
    for (const [id, client] of this.clients) {
      if (!client.feeds.has(feed)) continue;
      text ??= JSON.stringify({ feed, seq, data });
      // a stretch that publishes more than a queue holds sends what it has so far: waiting for
      // the end of the stretch must not drop a fast client's messages
      if (client.queue.length >= this.maxQueued) this.pump(id, client);
      this.queue(client, text);
      this.waiting.add(id);
    }
    if (this.waiting.size > 0 && !this.sendScheduled) {
      this.sendScheduled = true;
      queueMicrotask(this.sendWaiting);
    }
  }

  /** what publishes queued, to each client in one batch (bound: a microtask callback) */
  private readonly sendWaiting = (): void => {
    this.sendScheduled = false;
    for (const id of this.waiting) {
      const client = this.clients.get(id);
      if (client) this.pump(id, client);
    }
    this.waiting.clear();
  };

  /**
   * Called when a socket drains (Bun's `drain` handler) and on a timer: eviction and the
   * close grace are judged here too, so a client of a quiet feed is not kept forever.
   */
  flush(id?: number): void {
    if (id !== undefined) {
      const client = this.clients.get(id);
      if (client) this.pump(id, client);
      return;
    }
    for (const [clientId, client] of this.clients) this.pump(clientId, client);
  }

  private reply(id: number, client: FeedClient, message: unknown): void {
    this.enqueue(id, client, JSON.stringify(message));
  }

  private enqueue(id: number, client: FeedClient, text: string): void {
    this.queue(client, text);
    this.pump(id, client);
  }

  private queue(client: FeedClient, text: string): void {
    client.queue.push(text);
    if (client.queue.length > this.maxQueued) {
      const excess = client.queue.length - this.maxQueued;
      client.queue.splice(0, excess);
      client.dropped += excess;
      this.droppedTotal += excess;
    }
  }

  private pump(id: number, client: FeedClient): void {
    if (client.evictedAt !== undefined) {
      this.finishEviction(id, client);
      return;
    }
    if (client.queue.length > 1 && client.socket.cork) client.socket.cork(() => this.write(client));
    else this.write(client);
    const backlogged = client.queue.length >= this.maxQueued;
    if (!backlogged) {
      client.overSince = undefined;
      return;
    }
    const now = this.now();
    client.overSince ??= now;
    if (now - client.overSince < this.evictAfterMs) return;
    // evicted: nothing more is sent, the queue is freed, the close frame waits for room
    client.evictedAt = now;
    client.feeds.clear();
    client.queue.length = 0;
    this.finishEviction(id, client);
  }

  /** the lagged notice and the queue, as far as the socket takes them */
  private write(client: FeedClient): void {
    if (client.dropped > 0 && client.socket.bufferedAmount() < this.maxBufferedBytes) {
      const notice = JSON.stringify({ type: "lagged", dropped: client.dropped });
      client.dropped = 0;
      client.socket.send(notice);
    }
    let sent = 0;
    while (sent < client.queue.length && client.socket.bufferedAmount() < this.maxBufferedBytes) {
      if (client.socket.send(client.queue[sent++]!) === 0) {
        client.dropped++;
        this.droppedTotal++;
      }
    }
    // one splice for the batch: shift() per message moved the rest of the queue each time
    if (sent > 0) client.queue.splice(0, sent);
  }

  private finishEviction(id: number, client: FeedClient): void {
    if (client.socket.bufferedAmount() === 0) {
      this.clients.delete(id);
      this.evictedClosed++;
      client.socket.close(SLOW_CLIENT_CLOSE.code, SLOW_CLIENT_CLOSE.reason);
    } else if (this.now() - (client.evictedAt ?? 0) >= this.closeGraceMs) {
      this.clients.delete(id);
      this.evictedTerminated++;
      client.socket.terminate();
    }
  }
}
