import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Hono } from "hono";
import { createApp } from "../../../api/app.ts";
import { ApiKeyStore } from "../../../api/gateway/api-key-store.ts";
import { AuditLog } from "../../../api/gateway/audit-log.ts";
import { Gateway, type GatewayEnv, type GatewayOptions } from "../../../api/gateway/gateway.ts";
import type { Role } from "../../../api/gateway/roles.ts";
import { LiveView } from "../../../api/live-view.ts";
import { PlatformMetrics } from "../../../api/metrics.ts";
import { schemaRegistryRoutes } from "../../../api/schema-registry/routes.ts";
import { openLog } from "../../../log/index.ts";
import type { Log } from "../../../log/log.ts";
import { SchemaRegistry } from "../../../registries/schema-registry.ts";

/**
 * The node's app over a real embedded log: API keys and the audit trail in their topics, the
 * schema registry mounted, one key per role. Requests go through `app.request` with the client
 * address the Bun adapter would pass (a non-loopback one by default: no development mode).
 */
export interface SecuredApp {
  readonly app: Hono<GatewayEnv>;
  readonly log: Log;
  readonly keys: ApiKeyStore;
  readonly audit: AuditLog;
  readonly registry: SchemaRegistry;
  readonly gateway: Gateway;
  /** a key per role */
  readonly keyOf: Readonly<Record<Role, string>>;
  request(path: string, init?: RequestInit & { address?: string }): Promise<Response>;
  close(): Promise<void>;
}

export const REMOTE_ADDRESS = "192.0.2.10";

export async function securedApp(options: Omit<GatewayOptions, "keys" | "audit"> = {}): Promise<SecuredApp> {
  const dir = mkdtempSync(join(tmpdir(), "gateway-test-"));
  const log = await openLog({ kind: "embedded", path: join(dir, "log.db") });
  const keys = await ApiKeyStore.open(log, { refreshMs: 50 });
  const audit = await AuditLog.open(log);
  const registry = await SchemaRegistry.open(log);
  const keyOf = {
    viewer: (await keys.create("a viewer", "viewer")).key,
    operator: (await keys.create("an operator", "operator")).key,
    admin: (await keys.create("an admin", "admin")).key,
  };
  const gateway = new Gateway({ keys, audit, ...options });
  const app = createApp({
    gateway,
    keys,
    audit,
    view: new LiveView(),
    metrics: new PlatformMetrics({ processMetrics: false }),
    health: [],
    supervisionTree: () => ({}),
    nodeInfo: () => ({ applicationId: "gateway-test" }),
    mounts: [{ prefix: "/schema-registry", app: schemaRegistryRoutes(registry) }],
  });
  return {
    ...{ app, log, keys, audit, registry, gateway, keyOf },
    request: (path, init = {}) => {
      const { address, ...rest } = init;
      return Promise.resolve(app.request(path, rest, { clientAddress: address ?? REMOTE_ADDRESS }));
    },
    async close() {
      await keys.close();
      await log.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

export const bearer = (key: string) => ({ authorization: `Bearer ${key}` });
