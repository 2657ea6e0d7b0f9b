import type { Server, ServerWebSocket } from "bun";
import type { Hono } from "hono";
import type { FeedHub } from "./feeds/feed-hub.ts";

/**
 * Binds the Hono app and the WebSocket feeds to Bun.serve. `/ws` upgrades to a feed
 * connection; everything else goes to Hono. The only file of api/ that knows Bun.
 */
interface FeedConnection {
  clientId: number;
}

export interface ApiServer {
  readonly url: string;
  readonly port: number;
  /** serve this app from now on (the node starts with a "starting" app and swaps when ready) */
  use(app: Hono): void;
  stop(): Promise<void>;
}

export function serveApi(options: { app: Hono; feeds: FeedHub; port: number; hostname?: string }): ApiServer {
  const { feeds } = options;
  let app = options.app;
  const server: Server<FeedConnection> = Bun.serve<FeedConnection>({
    port: options.port,
    hostname: options.hostname ?? "0.0.0.0",
    fetch(request, bunServer) {
      if (new URL(request.url).pathname === "/ws") {
        if (bunServer.upgrade(request, { data: { clientId: 0 } })) return undefined;
        return new Response(
          JSON.stringify({ error: { code: "BAD_REQUEST", message: "expected a WebSocket upgrade" } }),
          {
            status: 426,
            headers: { "content-type": "application/json" },
          },
        );
      }
      return app.fetch(request);
    },
    websocket: {
      // Bun's own per-socket buffer; the hub keeps its own bounded queue on top (slow-client policy).
      backpressureLimit: 4 * 1024 * 1024,
      maxPayloadLength: 64 * 1024,
      open(ws: ServerWebSocket<FeedConnection>) {
        ws.data.clientId = feeds.connect({
          send: (text) => ws.send(text),
          bufferedAmount: () => ws.getBufferedAmount(),
          close: (code, reason) => ws.close(code, reason),
        });
      },
      message(ws: ServerWebSocket<FeedConnection>, message: string | Buffer) {
        feeds.control(ws.data.clientId, typeof message === "string" ? message : message.toString("utf8"));
      },
      drain(ws: ServerWebSocket<FeedConnection>) {
        feeds.flush(ws.data.clientId);
      },
      close(ws: ServerWebSocket<FeedConnection>) {
        feeds.disconnect(ws.data.clientId);
      },
    },
  });
  const port = server.port ?? options.port;
  return {
    use(next) {
      app = next;
    },
    url: `http://${options.hostname === "0.0.0.0" || !options.hostname ? "localhost" : options.hostname}:${port}`,
    port,
    async stop() {
      await server.stop(true);
    },
  };
}
