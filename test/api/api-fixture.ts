import { Hono } from "hono";
import { createApp } from "../../api/app.ts";
import { FeedHub, type FeedHubOptions } from "../../api/feeds/feed-hub.ts";
import { Gateway, type GatewayOptions } from "../../api/gateway/gateway.ts";
import type { HealthCheck } from "../../api/health.ts";
import { LiveView, type LiveViewOptions } from "../../api/live-view.ts";
import { PlatformMetrics } from "../../api/metrics.ts";
import { type ApiServer, serveApi } from "../../api/server.ts";

/**
 * A real Bun.serve on a free loopback port with the node's app and feed hub over a live view
 * the test fills. A "/schema-registry" mount echoes JSON bodies, to see its own body cap.
 * The gateway is in development mode unless `gateway` options configure credentials: the tests
 * call from loopback, so they are admin, as a developer on the node's machine is.
 */
export interface ApiUnderTest {
  readonly server: ApiServer;
  readonly url: string;
  readonly view: LiveView;
  readonly feeds: FeedHub;
  readonly metrics: PlatformMetrics;
  stop(): Promise<void>;
}

export function startApi(
  options: {
    view?: LiveViewOptions;
    feeds?: FeedHubOptions;
    health?: readonly HealthCheck[];
    idleTimeoutSeconds?: number;
    feedCheckMs?: number;
    maxFeedClientsPerAddress?: number;
    gateway?: GatewayOptions;
    tls?: { certFile: string; keyFile: string };
  } = {},
): ApiUnderTest & { gateway: Gateway } {
  const view = new LiveView(options.view);
  // the fuzz tests send hundreds of frames on one connection: they test other limits
  const feeds = new FeedHub({ controlsPerSecond: 100_000, controlBurst: 100_000, ...options.feeds });
  const metrics = new PlatformMetrics({ processMetrics: false });
  metrics.observe({
    feeds: () => feeds.stats(),
    readModel: () => ({ evictions: view.evictions(), sizes: view.sizes() }),
  });
  const registry = new Hono();
  registry.post("/subjects/:subject/versions", async (c) => c.json({ bytes: (await c.req.text()).length }));
  // the fuzz and load tests send hundreds of requests at once: they test other limits
  const gateway = new Gateway({
    rateLimit: { perSecond: 100_000, burst: 100_000 },
    tls: options.tls !== undefined,
    ...options.gateway,
  });
  const app = createApp({
    gateway,
    ...(options.gateway?.keys ? { keys: options.gateway.keys } : {}),
    ...(options.gateway?.audit ? { audit: options.gateway.audit } : {}),
    view,
    metrics,
    health: options.health ?? [],
    supervisionTree: () => ({}),
    nodeInfo: () => ({ applicationId: "api-test" }),
    mounts: [{ prefix: "/schema-registry", app: registry }],
  });
  const server = serveApi({
    app,
    gateway,
    feeds,
    ...(options.tls ? { tls: options.tls } : {}),
    port: 0,
    hostname: "127.0.0.1",
    ...(options.idleTimeoutSeconds === undefined ? {} : { idleTimeoutSeconds: options.idleTimeoutSeconds }),
    ...(options.feedCheckMs === undefined ? {} : { feedCheckMs: options.feedCheckMs }),
    ...(options.maxFeedClientsPerAddress === undefined
      ? {}
      : { maxFeedClientsPerAddress: options.maxFeedClientsPerAddress }),
  });
  return { server, url: server.url, view, feeds, metrics, gateway, stop: () => server.stop() };
}
