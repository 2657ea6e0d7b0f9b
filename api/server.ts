import type { Server, ServerWebSocket } from "bun";
import type { Hono } from "hono";
import { ErrorCodes } from "../messages/errors.ts";
import { SERVER_MAX_BODY_BYTES } from "./body-limits.ts";
import type { FeedHub } from "./feeds/feed-hub.ts";

/**
 * Binds the Hono app and the WebSocket feeds to Bun.serve. `/ws` upgrades to a feed
 * connection; everything else goes to Hono. The only file of api/ that knows Bun.
 *
 * Hostile input stops here or in the hub: a request body over SERVER_MAX_BODY_BYTES is refused
 * by Bun (the routes have smaller caps with a JSON 413), a WebSocket frame over
 * `MAX_FEED_FRAME_BYTES` is closed by Bun with 1009, a binary frame is answered with an error
 * message, and a handler that throws is contained by the `error` hooks instead of becoming an
 * uncaught exception that stops the process.
 */
interface FeedConnection {
  clientId: number;
}

/** a control message is a few hundred bytes; anything near this is not one */
export const MAX_FEED_FRAME_BYTES = 16 * 1024;

export interface ApiServer {
  readonly url: string;
  readonly port: number;
  /** serve this app from now on (the node starts with a "starting" app and swaps when ready) */
  use(app: Hono): void;
  stop(): Promise<void>;
}

export interface ServeApiOptions {
  readonly app: Hono;
  readonly feeds: FeedHub;
  readonly port: number;
  readonly hostname?: string;
  /** seconds without a frame from a client before Bun closes it (Bun's default 120) */
  readonly idleTimeoutSeconds?: number;
  /** how often the hub judges slow clients when no feed publishes; default 1000 */
  readonly feedCheckMs?: number;
}

const jsonError = (status: number, code: string, message: string) =>
  new Response(JSON.stringify({ error: { code, message } }), {
    status,
    headers: { "content-type": "application/json" },
  });

export function serveApi(options: ServeApiOptions): ApiServer {
  const { feeds } = options;
  let app = options.app;
  const server: Server<FeedConnection> = Bun.serve<FeedConnection>({
    port: options.port,
    hostname: options.hostname ?? "0.0.0.0",
    maxRequestBodySize: SERVER_MAX_BODY_BYTES,
    // never Bun's development error page: it shows the stack
    development: false,
    fetch(request, bunServer) {
      if (new URL(request.url).pathname === "/ws") {
        if (bunServer.upgrade(request, { data: { clientId: 0 } })) return undefined;
        return jsonError(426, ErrorCodes.BAD_REQUEST, "expected a WebSocket upgrade");
      }
      return app.fetch(request);
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
        ws.data.clientId = feeds.connect({
          send: (text) => ws.send(text),
          bufferedAmount: () => ws.getBufferedAmount(),
          close: (code, reason) => ws.close(code, reason),
          terminate: () => ws.terminate(),
        });
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
      drain(ws: ServerWebSocket<FeedConnection>) {
        feeds.flush(ws.data.clientId);
      },
      close(ws: ServerWebSocket<FeedConnection>) {
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
  // eviction and the close grace are judged on a timer too, not only when a feed publishes
  const feedCheck = setInterval(() => feeds.flush(), options.feedCheckMs ?? 1000);
  const port = server.port ?? options.port;
  return {
    use(next) {
      app = next;
    },
    url: `http://${options.hostname === "0.0.0.0" || !options.hostname ? "localhost" : options.hostname}:${port}`,
    port,
    async stop() {
      clearInterval(feedCheck);
      await server.stop(true);
    },
  };
}
