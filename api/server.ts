import http from "node:http";
import type { Server, ServerWebSocket } from "bun";
import type { Hono } from "hono";
import { ErrorCodes } from "../messages/errors.ts";
import type { FeedHub } from "./feeds/feed-hub.ts";
import type { FeedName } from "./feeds/feed-names.ts";
import { Gateway, type GatewayBindings, isRefusal, refusalResponse } from "./gateway/gateway.ts";
import { NATIVE_BODY_BYTES, NATIVE_HEADER_BYTES, oversizedRequest } from "./request-limits.ts";

/**
 * Binds the Hono app and the WebSocket feeds to Bun.serve. `/ws` upgrades to a feed
 * connection once the gateway admits the client (credential, Origin, role per feed); everything
 * else goes to Hono with the socket's address (the gateway's rate limits, development mode and
 * audit use it; X-Forwarded-For is not trusted). With `tls` it serves HTTPS and WSS. The only
 * file of api/ that knows Bun.
 *
 * Hostile input stops here or in the hub: a request whose headers or declared body are over the
 * server's limits is answered 431/413 in the API's error shape before the app (request-limits.ts;
 * the routes have smaller body caps with a JSON 413), a WebSocket frame over
 * `MAX_FEED_FRAME_BYTES` is closed by Bun with 1009, a binary frame is answered with an error
 * message, and a handler that throws is contained by the `error` hooks instead of becoming an
 * uncaught exception that stops the process. An open feed client's credential is checked again
 * every `feedCheckMs`: one revoked, expired or no longer enough is closed with 1008. One client
 * address holds at most `maxFeedClientsPerAddress` feed connections; past that an upgrade is 429.
 */
interface FeedConnection {
  clientId: number;
  mayReceive: (feed: FeedName) => boolean;
  /** the upgrade's URL and headers (its credential), to ask the gateway again while it is open */
  readonly admittedBy: Request;
  readonly clientAddress: string | undefined;
  /** the key its connection is counted under, per address */
  readonly countedAs: string;
}

/** a feed client whose credential no longer admits it (revoked key, expired token) */
export const CREDENTIAL_ENDED_CLOSE = {
  code: 1008,
  reason: "your credential was revoked or has expired; reconnect with a valid one",
} as const;

/** a control message is a few hundred bytes; anything near this is not one */
export const MAX_FEED_FRAME_BYTES = 16 * 1024;

export interface ApiServer {
  readonly url: string;
  readonly port: number;
  /**
   * serve this app from now on (the node starts with a "starting" app and swaps when ready); the
   * gateway admits WebSocket clients, which are refused until there is one
   */
  // biome-ignore lint/suspicious/noExplicitAny: any app env; the adapter passes GatewayBindings
  use(app: Hono<any>, gateway?: Gateway): void;
  stop(): Promise<void>;
}

export interface ServeApiOptions {
  // biome-ignore lint/suspicious/noExplicitAny: any app env; the adapter passes GatewayBindings
  readonly app: Hono<any>;
  /** admits WebSocket clients; without one, upgrades are refused (the node is starting) */
  readonly gateway?: Gateway;
  /** serve HTTPS and WSS with these PEM files (TLS_CERT_FILE, TLS_KEY_FILE) */
  readonly tls?: { readonly certFile: string; readonly keyFile: string };
  readonly feeds: FeedHub;
  readonly port: number;
  readonly hostname?: string;
  /** seconds without a frame from a client before Bun closes it (Bun's default 120) */
  readonly idleTimeoutSeconds?: number;
  /**
   * how often the hub judges slow clients when no feed publishes, and open feed clients'
   * credentials are checked again; default 1000
   */
  readonly feedCheckMs?: number;
  /**
   * feed connections one client address may hold open at once (Kafka's max.connections.per.ip):
   * each may hold its queue and socket buffer (~2 MiB), so the count is what bounds the memory
   * one client can pin; default 256
   */
  readonly maxFeedClientsPerAddress?: number;
}

export const DEFAULT_MAX_FEED_CLIENTS_PER_ADDRESS = 256;

const jsonError = (status: number, code: string, message: string) =>
  new Response(JSON.stringify({ error: { code, message } }), {
    status,
    headers: { "content-type": "application/json" },
  });

export function serveApi(options: ServeApiOptions): ApiServer {
  const { feeds } = options;
  let app = options.app;
  let gateway = options.gateway;
  const hostname = options.hostname ?? "127.0.0.1";
  const openSockets = new Set<ServerWebSocket<FeedConnection>>();
  const feedClientsByAddress = new Map<string, number>();
  const maxFeedClientsPerAddress = options.maxFeedClientsPerAddress ?? DEFAULT_MAX_FEED_CLIENTS_PER_ADDRESS;
  // Bun's own header limit is the process's (node:http's maxHeaderSize, settable in Bun): raised
  // above ours, so a request between the two is answered in our shape instead of a bare 431
  if (http.maxHeaderSize < NATIVE_HEADER_BYTES)
    (http as { maxHeaderSize: number }).maxHeaderSize = NATIVE_HEADER_BYTES;
  const server: Server<FeedConnection> = Bun.serve<FeedConnection>({
    port: options.port,
    hostname,
    // lifted: a declared body over SERVER_MAX_BODY_BYTES is refused in fetch, a chunked one by
    // the routes' caps as it is read; Bun's own would answer a bare 413 first
    maxRequestBodySize: NATIVE_BODY_BYTES,
    // never Bun's development error page: it shows the stack
    development: false,
    ...(options.tls
      ? { tls: { cert: Bun.file(options.tls.certFile), key: Bun.file(options.tls.keyFile) } }
      : {}),
    async fetch(request, bunServer) {
      const oversized = oversizedRequest(request);
      if (oversized) return oversized;
      const bindings: GatewayBindings = { clientAddress: bunServer.requestIP(request)?.address };
      if (new URL(request.url).pathname === "/ws") {
        if (!gateway) return jsonError(503, "STARTING", "the node is starting; retry shortly");
        if (request.headers.get("upgrade")?.toLowerCase() !== "websocket")
          return jsonError(426, ErrorCodes.BAD_REQUEST, "expected a WebSocket upgrade");
        const admitted = await gateway.admitFeedClient(request, bindings.clientAddress);
        if (isRefusal(admitted)) return refusalResponse(admitted);
        const countedAs = bindings.clientAddress ?? "unknown";
        const held = feedClientsByAddress.get(countedAs) ?? 0;
        if (held >= maxFeedClientsPerAddress)
          return jsonError(
            429,
            ErrorCodes.RATE_LIMITED,
            `this address has ${held} feed connections open, the most allowed; close one first`,
          );
        const data: FeedConnection = {
          clientId: 0,
          mayReceive: Gateway.mayReceive(admitted),
          // only what authentication reads: not the body, not the socket
          admittedBy: new Request(request.url, { headers: request.headers }),
          clientAddress: bindings.clientAddress,
          countedAs,
        };
        // counted at the upgrade, not at open: a burst of upgrades cannot all pass the check first
        if (bunServer.upgrade(request, { data })) {
          feedClientsByAddress.set(countedAs, held + 1);
          return undefined;
        }
        return jsonError(426, ErrorCodes.BAD_REQUEST, "expected a WebSocket upgrade");
      }
      return app.fetch(request, bindings);
    },
    error(error) {
      console.error("API request failed outside the app:", error);
      return jsonError(500, ErrorCodes.INTERNAL, "internal error; see the node's log");
    },
    websocket: {
      // The hub stops handing a socket more once 1 MiB waits in it, so this is only reached by
      // the hub's own replies; the hub evicts slow clients with 1013 itself, so no abrupt close.
      backpressureLimit: 4 * 1024 * 1024,
      closeOnBackpressureLimit: false,
      maxPayloadLength: MAX_FEED_FRAME_BYTES,
      ...(options.idleTimeoutSeconds === undefined ? {} : { idleTimeout: options.idleTimeoutSeconds }),
      open(ws: ServerWebSocket<FeedConnection>) {
        openSockets.add(ws);
        ws.data.clientId = feeds.connect(
          {
            send: (text) => ws.send(text),
            bufferedAmount: () => ws.getBufferedAmount(),
            close: (code, reason) => ws.close(code, reason),
            terminate: () => ws.terminate(),
            cork: (write) => {
              ws.cork(write);
            },
          },
          ws.data.mayReceive,
        );
      },
      message(ws: ServerWebSocket<FeedConnection>, message: string | Buffer) {
        if (typeof message !== "string") {
          feeds.refuse(
            ws.data.clientId,
            ErrorCodes.UNSUPPORTED_FRAME,
            'binary frames are not accepted; send a text frame {"op":"subscribe","feeds":[...]}',
          );
          return;
        }
        feeds.control(ws.data.clientId, message);
      },
      // Bun has answered it with a pong already; a flood of them is counted and closed like one of messages
      ping(ws: ServerWebSocket<FeedConnection>) {
        feeds.ping(ws.data.clientId);
      },
      drain(ws: ServerWebSocket<FeedConnection>) {
        feeds.flush(ws.data.clientId);
      },
      close(ws: ServerWebSocket<FeedConnection>) {
        openSockets.delete(ws);
        const held = (feedClientsByAddress.get(ws.data.countedAs) ?? 1) - 1;
        if (held > 0) feedClientsByAddress.set(ws.data.countedAs, held);
        else feedClientsByAddress.delete(ws.data.countedAs);
        feeds.disconnect(ws.data.clientId);
      },
      error(error: Error, ws: ServerWebSocket<FeedConnection>) {
        // one client's bad frame must not stop the node; that client alone is closed
        console.error(`WebSocket client ${ws.data.clientId} handler failed:`, error);
        feeds.disconnect(ws.data.clientId);
        ws.close(1011, "internal error");
      },
    },
  });
  let checkingCredentials = false;
  const checkCredentials = async () => {
    // a slow JWKS must not stack checks on top of each other
    if (checkingCredentials || !gateway) return;
    checkingCredentials = true;
    try {
      for (const ws of [...openSockets]) {
        if (await gateway.feedClientStillAdmitted(ws.data.admittedBy, ws.data.clientAddress)) continue;
        // nothing more reaches it, and it is told why before the socket closes
        openSockets.delete(ws);
        feeds.disconnect(ws.data.clientId);
        ws.close(CREDENTIAL_ENDED_CLOSE.code, CREDENTIAL_ENDED_CLOSE.reason);
      }
    } finally {
      checkingCredentials = false;
    }
  };
  // eviction and the close grace are judged on a timer too, not only when a feed publishes
  const feedCheck = setInterval(() => {
    feeds.flush();
    checkCredentials().catch((error: unknown) =>
      console.error("checking the feed clients' credentials failed:", error),
    );
  }, options.feedCheckMs ?? 1000);
  const port = server.port ?? options.port;
  const scheme = options.tls ? "https" : "http";
  const shownHost = hostname === "0.0.0.0" || hostname === "::" ? "localhost" : hostname;
  return {
    use(next, nextGateway) {
      app = next;
      gateway = nextGateway ?? gateway;
    },
    url: `${scheme}://${shownHost.includes(":") ? `[${shownHost}]` : shownHost}:${port}`,
    port,
    async stop() {
      clearInterval(feedCheck);
      await server.stop(true);
    },
  };
}
