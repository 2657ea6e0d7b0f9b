import { decode as msgpackDecode } from "@msgpack/msgpack";
import {
  errorFrame,
  type Frame,
  STREAM_CHANNELS,
  STREAM_ERRORS,
  type StreamChannel,
  type StreamError,
  subscriptionFrame,
  successFrame,
  type WireFormat,
} from "./wire-format.ts";

/**
 * One client connection of the simulated v2 stream, as a state machine with no socket in it:
 * connected -> authenticated (or closed on a failed or late auth), then subscribe and
 * unsubscribe. It answers each client message with the frames Alpaca answers, and says when the
 * server closes the connection (after a failed auth, an auth timeout, or too many connections).
 */
export interface StreamSessionDeps {
  readonly format: WireFormat;
  /** whether a key pair may use the stream; compared in constant time by the caller */
  readonly authorize: (key: string, secret: string) => boolean;
  /** a key's connections besides this one would exceed the limit */
  readonly admit: (key: string) => boolean;
  readonly maxSymbols: number;
  /** the symbols that exist ("*" subscribes to all of them) */
  readonly knownSymbol: (symbol: string) => boolean;
  readonly send: (frames: readonly Frame[]) => void;
  /** close the socket with a WebSocket close code */
  readonly close: (code: number, reason: string) => void;
}

const SYMBOL = /^([A-Z][A-Z0-9.-]{0,15}|\*)$/;

export class StreamSession {
  authenticated = false;
  key: string | undefined;
  closed = false;
  readonly subscribed: Record<StreamChannel, Set<string>> = {
    trades: new Set(),
    quotes: new Set(),
    bars: new Set(),
  };

  constructor(private readonly deps: StreamSessionDeps) {}

  opened(): void {
    this.deps.send([successFrame("connected")]);
  }

  /** the client did not authenticate in time */
  authTimedOut(): void {
    if (this.authenticated || this.closed) return;
    this.fail(STREAM_ERRORS.AUTH_TIMEOUT, true);
  }

  /** whether this session wants `channel` data of `symbol` */
  wants(channel: StreamChannel, symbol: string): boolean {
    const set = this.subscribed[channel];
    return set.has(symbol) || set.has("*");
  }

  receive(raw: string | Uint8Array): void {
    if (this.closed) return;
    const message = this.parse(raw);
    if (message === undefined) {
      this.fail(STREAM_ERRORS.INVALID_SYNTAX, false);
      return;
    }
    const action = message.action;
    if (action === "auth") {
      this.auth(message);
      return;
    }
    if (action === "subscribe" || action === "unsubscribe") {
      if (!this.authenticated) {
        this.fail(STREAM_ERRORS.NOT_AUTHENTICATED, false);
        return;
      }
      this.subscription(action, message);
      return;
    }
    this.fail(STREAM_ERRORS.INVALID_SYNTAX, false);
  }

  private parse(raw: string | Uint8Array): Record<string, unknown> | undefined {
    let value: unknown;
    try {
      value =
        typeof raw === "string"
          ? JSON.parse(raw)
          : this.deps.format === "msgpack"
            ? msgpackDecode(raw)
            : JSON.parse(new TextDecoder("utf-8", { fatal: true }).decode(raw));
    } catch (error) {
      // the client sent bytes that are not a message: Alpaca answers 400 and keeps the connection
      if (error instanceof Error) return undefined;
      throw error;
    }
    return typeof value === "object" && value !== null && !Array.isArray(value)
      ? (value as Record<string, unknown>)
      : undefined;
  }

  private auth(message: Record<string, unknown>): void {
    if (this.authenticated) {
      this.fail(STREAM_ERRORS.ALREADY_AUTHENTICATED, false);
      return;
    }
    const { key, secret } = message;
    if (typeof key !== "string" || typeof secret !== "string" || !this.deps.authorize(key, secret)) {
      this.fail(STREAM_ERRORS.AUTH_FAILED, true);
      return;
    }
    if (!this.deps.admit(key)) {
      this.fail(STREAM_ERRORS.CONNECTION_LIMIT_EXCEEDED, true);
      return;
    }
    this.authenticated = true;
    this.key = key;
    this.deps.send([successFrame("authenticated")]);
  }

  private subscription(action: "subscribe" | "unsubscribe", message: Record<string, unknown>): void {
    const changes: [StreamChannel, string[]][] = [];
    for (const [field, value] of Object.entries(message)) {
      if (field === "action") continue;
      if (!(STREAM_CHANNELS as readonly string[]).includes(field) || !Array.isArray(value)) {
        this.fail(STREAM_ERRORS.INVALID_SUBSCRIBE_ACTION, false);
        return;
      }
      if (!value.every((s) => typeof s === "string" && SYMBOL.test(s))) {
        this.fail(STREAM_ERRORS.INVALID_SYNTAX, false);
        return;
      }
      changes.push([field as StreamChannel, value as string[]]);
    }
    if (action === "subscribe") {
      const total = new Set<string>();
      for (const set of Object.values(this.subscribed)) for (const s of set) total.add(s);
      for (const [, symbols] of changes) for (const s of symbols) total.add(s);
      if (total.size > this.deps.maxSymbols) {
        this.fail(STREAM_ERRORS.SYMBOL_LIMIT_EXCEEDED, false);
        return;
      }
      for (const [channel, symbols] of changes)
        for (const s of symbols) if (s === "*" || this.deps.knownSymbol(s)) this.subscribed[channel].add(s);
    } else {
      for (const [channel, symbols] of changes) for (const s of symbols) this.subscribed[channel].delete(s);
    }
    this.deps.send([
      subscriptionFrame({
        trades: [...this.subscribed.trades],
        quotes: [...this.subscribed.quotes],
        bars: [...this.subscribed.bars],
      }),
    ]);
  }

  private fail(error: StreamError, close: boolean): void {
    this.deps.send([errorFrame(error)]);
    if (close) {
      this.closed = true;
      this.deps.close(1008, error.msg);
    }
  }
}
