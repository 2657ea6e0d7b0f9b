import { timingSafeEqual } from "node:crypto";
import type { Server, ServerWebSocket } from "bun";
import type { MarketModel } from "../simulator/market-model.ts";
import { handleBarsRequest } from "./bars-endpoint.ts";
import { LiveMarket } from "./live-market.ts";
import { FixedWindowLimiter } from "./rate-limiter.ts";
import { StreamSession } from "./stream-session.ts";
import {
  barFrame,
  encodeFrames,
  errorFrame,
  type Frame,
  quoteFrame,
  STREAM_ERRORS,
  tradeFrame,
  type WireFormat,
} from "./wire-format.ts";

/**
 * A server that speaks Alpaca's market-data protocols over the simulated market, so the official
 * SDK (and any Alpaca client) runs against it unchanged through its URL options: the v2 stock
 * stream at `/v2/{iex|sip|delayed_sip|test}` and the REST bars endpoints under `/v2/stocks`.
 * Tests and benchmarks drive its faults: drop every connection, refuse new ones, answer REST
 * with 503, shrink the rate limit.
 */
export interface AlpacaSimulatorOptions {
  readonly model: MarketModel;
  readonly symbols: readonly string[];
  readonly credentials: { readonly keyId: string; readonly secret: string };
  readonly port?: number;
  readonly hostname?: string;
  /** REST requests per key per interval (Alpaca's free plan: 200 a minute) */
  readonly rateLimit?: { readonly maxRequests: number; readonly intervalMs: number };
  readonly maxSymbols?: number;
  /** stream connections per key (Alpaca allows one) */
  readonly maxConnectionsPerKey?: number;
  readonly authTimeoutMs?: number;
  /** how often the stream sends what happened since the last tick */
  readonly tickMs?: number;
  /** frames per stream message at most (a tick with more goes out as several messages) */
  readonly maxFramesPerMessage?: number;
  /** a client with more than this many bytes unsent is a slow client (407) and is dropped */
  readonly maxBufferedBytes?: number;
  readonly now?: () => number;
}

interface SocketData {
  readonly format: WireFormat;
  session?: StreamSession;
  authTimer?: ReturnType<typeof setTimeout>;
}

export interface AlpacaSimulator {
  /** the REST base URL (the SDK's `basePath`) */
  readonly url: string;
  /** the stock stream URL (the SDK's stream `url`) */
  readonly streamUrl: string;
  readonly faults: {
    /** close every stream connection (1011), as a server restart would */
    dropConnections(): void;
    /** refuse (503) new stream connections and REST requests while true */
    setDown(down: boolean): void;
  };
  stats(): { connections: number; framesSent: number; restRequests: number; rejectedRequests: number };
  stop(): Promise<void>;
}

const STREAM_PATH = /^\/v2\/(iex|sip|delayed_sip|test)$/;
const MAX_CLIENT_MESSAGE_BYTES = 64 * 1024;

export function startAlpacaSimulator(options: AlpacaSimulatorOptions): AlpacaSimulator {
  const now = options.now ?? Date.now;
  const known = new Set(options.symbols);
  const live = new LiveMarket(options.model);
  const limiter = new FixedWindowLimiter(
    options.rateLimit?.maxRequests ?? 200,
    options.rateLimit?.intervalMs ?? 60_000,
  );
  const expectKey = Buffer.from(options.credentials.keyId);
  const expectSecret = Buffer.from(options.credentials.secret);
  const same = (a: Buffer, b: Buffer) => a.length === b.length && timingSafeEqual(a, b);
  const authorize = (key: string, secret: string) =>
    same(Buffer.from(key), expectKey) && same(Buffer.from(secret), expectSecret);
  const sockets = new Set<ServerWebSocket<SocketData>>();
  const connectionsOf = new Map<string, number>();
  const maxFrames = options.maxFramesPerMessage ?? 5000;
  const maxBuffered = options.maxBufferedBytes ?? 16 * 1024 * 1024;
  let down = false;
  const counters = { framesSent: 0, restRequests: 0, rejectedRequests: 0 };

  const send = (ws: ServerWebSocket<SocketData>, frames: readonly Frame[]) => {
    for (let i = 0; i < frames.length; i += maxFrames) {
      const chunk = frames.slice(i, i + maxFrames);
      ws.send(encodeFrames(chunk, ws.data.format));
      counters.framesSent += chunk.length;
    }
  };

  const server: Server<SocketData> = Bun.serve<SocketData>({
    port: options.port ?? 0,
    hostname: options.hostname ?? "127.0.0.1",
    fetch(request, srv) {
      const url = new URL(request.url);
      if (STREAM_PATH.test(url.pathname)) {
        if (down) return new Response("service unavailable", { status: 503 });
        const format: WireFormat = (request.headers.get("content-type") ?? "").includes("msgpack")
          ? "msgpack"
          : "json";
        if (srv.upgrade(request, { data: { format } })) return undefined;
        return new Response(JSON.stringify({ message: "expected a websocket upgrade" }), { status: 400 });
      }
      if (url.pathname.startsWith("/v2/stocks/") && url.pathname.endsWith("/bars")) {
        counters.restRequests++;
        if (down) return new Response(JSON.stringify({ message: "service unavailable" }), { status: 503 });
        if (request.method !== "GET")
          return new Response(JSON.stringify({ message: "method not allowed" }), { status: 405 });
        const response = handleBarsRequest(request, {
          model: options.model,
          limiter,
          authorize,
          knownSymbol: (s) => known.has(s),
          now,
        });
        if (response.status === 429) counters.rejectedRequests++;
        return response;
      }
      return new Response(JSON.stringify({ message: "not found" }), { status: 404 });
    },
    websocket: {
      maxPayloadLength: MAX_CLIENT_MESSAGE_BYTES,
      // a frame over the limit closes the connection (1009) before it reaches the session
      open(ws) {
        sockets.add(ws);
        const session = new StreamSession({
          format: ws.data.format,
          authorize,
          admit: (key) => (connectionsOf.get(key) ?? 0) < (options.maxConnectionsPerKey ?? 1),
          maxSymbols: options.maxSymbols ?? 2000,
          knownSymbol: (s) => known.has(s),
          send: (frames) => send(ws, frames),
          close: (code, reason) => ws.close(code, reason),
        });
        ws.data.session = session;
        session.opened();
        ws.data.authTimer = setTimeout(() => session.authTimedOut(), options.authTimeoutMs ?? 10_000);
      },
      message(ws, message) {
        const session = ws.data.session!;
        const wasAuthenticated = session.authenticated;
        session.receive(typeof message === "string" ? message : new Uint8Array(message));
        if (!wasAuthenticated && session.authenticated && session.key !== undefined) {
          clearTimeout(ws.data.authTimer);
          connectionsOf.set(session.key, (connectionsOf.get(session.key) ?? 0) + 1);
        }
        for (const channel of ["trades", "quotes", "bars"] as const)
          for (const symbol of session.subscribed[channel])
            if (symbol === "*") for (const s of known) live.follow(s, now());
            else live.follow(symbol, now());
      },
      close(ws) {
        sockets.delete(ws);
        clearTimeout(ws.data.authTimer);
        const session = ws.data.session;
        if (session?.authenticated && session.key !== undefined) {
          const left = (connectionsOf.get(session.key) ?? 1) - 1;
          if (left <= 0) connectionsOf.delete(session.key);
          else connectionsOf.set(session.key, left);
        }
      },
    },
  });

  const tick = () => {
    const events = live.tick(now());
    if (events.trades.length + events.quotes.length + events.bars.length === 0) return;
    for (const ws of sockets) {
      const session = ws.data.session;
      if (!session?.authenticated) continue;
      if (ws.getBufferedAmount() > maxBuffered) {
        ws.send(encodeFrames([errorFrame(STREAM_ERRORS.SLOW_CLIENT)], ws.data.format));
        ws.close(1008, "slow client");
        continue;
      }
      const format = ws.data.format;
      const frames: Frame[] = [];
      for (const t of events.trades)
        if (session.wants("trades", t.symbol)) frames.push(tradeFrame(t, format));
      for (const q of events.quotes)
        if (session.wants("quotes", q.symbol)) frames.push(quoteFrame(q, format));
      for (const b of events.bars) if (session.wants("bars", b.symbol)) frames.push(barFrame(b, format));
      if (frames.length > 0) send(ws, frames);
    }
  };
  const timer = setInterval(tick, options.tickMs ?? 50);

  const base = `${server.hostname}:${server.port}`;
  return {
    url: `http://${base}`,
    streamUrl: `ws://${base}/v2/iex`,
    faults: {
      dropConnections() {
        for (const ws of sockets) ws.close(1011, "server restarting");
      },
      setDown(value) {
        down = value;
      },
    },
    stats: () => ({ connections: sockets.size, ...counters }),
    async stop() {
      clearInterval(timer);
      for (const ws of sockets) ws.close(1001, "going away");
      await server.stop(true);
    },
  };
}
