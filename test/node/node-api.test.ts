import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startNode } from "../../node/start-node.ts";
import { testNodeConfig } from "./node-fixture.ts";

const SUBJECT = "city.sensors.raw-value";
const REGISTRY_JSON = "application/vnd.schemaregistry.v1+json";
const otherSchema = JSON.stringify({
  type: "object",
  properties: { id: { type: "number" } },
  required: ["id"],
});

/**
 * Regression (issue 13): two anonymous calls, DELETE the subject city.sensors.raw-value and POST
 * another schema (as text/plain, which a web page sends without a CORS preflight), left the node
 * unable to start again (SCHEMA_INCOMPATIBLE). Both calls now fail, even in development mode,
 * where a caller on the node's machine is admin.
 */
describe("the two-call brick attack on a node in development mode", () => {
  const dataDir = mkdtempSync(join(tmpdir(), "node-api-brick-"));
  afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

  test("fails at both calls, and the node starts again", async () => {
    const node = await startNode(testNodeConfig(dataDir));
    try {
      for (const query of ["", "?permanent=true"]) {
        const deleted = await fetch(`${node.apiUrl}/schema-registry/subjects/${SUBJECT}${query}`, {
          method: "DELETE",
        });
        expect(deleted.status).toBe(422);
        expect(((await deleted.json()) as { error_code: number }).error_code).toBe(42205);
      }
      const deletedVersion = await fetch(`${node.apiUrl}/schema-registry/subjects/${SUBJECT}/versions/1`, {
        method: "DELETE",
      });
      expect(deletedVersion.status).toBe(422);
      const posted = await fetch(`${node.apiUrl}/schema-registry/subjects/${SUBJECT}/versions`, {
        method: "POST",
        headers: { "content-type": "text/plain" },
        body: JSON.stringify({ schema: otherSchema, schemaType: "JSON" }),
      });
      expect(posted.status).toBe(415);
      // a page elsewhere cannot write either: its Origin is not the node's nor on the allow-list
      const crossSite = await fetch(`${node.apiUrl}/schema-registry/subjects/${SUBJECT}/versions`, {
        method: "POST",
        headers: { "content-type": REGISTRY_JSON, origin: "https://evil.example" },
        body: JSON.stringify({ schema: otherSchema, schemaType: "JSON" }),
      });
      expect(crossSite.status).toBe(403);
      const versions = await fetch(`${node.apiUrl}/schema-registry/subjects/${SUBJECT}/versions`);
      expect(await versions.json()).toEqual([1]);
    } finally {
      await node.stop();
    }
    const again = await startNode(testNodeConfig(dataDir));
    try {
      expect((await fetch(`${again.apiUrl}/health`)).status).toBeLessThan(500);
    } finally {
      await again.stop();
    }
  });
});

describe("a node with ADMIN_API_KEY", () => {
  const dataDir = mkdtempSync(join(tmpdir(), "node-api-keys-"));
  const adminKey = `admin-${"k".repeat(40)}`;
  let node: Awaited<ReturnType<typeof startNode>>;
  beforeAll(async () => {
    node = await startNode(testNodeConfig(dataDir, { adminApiKey: adminKey }));
  });
  afterAll(async () => {
    await node.stop();
    rmSync(dataDir, { recursive: true, force: true });
  });
  const admin = { authorization: `Bearer ${adminKey}` };

  test("answers an anonymous caller on its own machine 401, except /health", async () => {
    expect((await fetch(`${node.apiUrl}/api/v1/sensors`)).status).toBe(401);
    const del = await fetch(`${node.apiUrl}/schema-registry/subjects/${SUBJECT}`, { method: "DELETE" });
    expect(del.status).toBe(401);
    expect(del.headers.get("www-authenticate")).toContain("Bearer");
    expect((await fetch(`${node.apiUrl}/health`)).status).not.toBe(401);
  });

  test("creates a key shown once, lets it in by its role, revokes it, and audits each change", async () => {
    const created = await fetch(`${node.apiUrl}/api/v1/admin/api-keys`, {
      method: "POST",
      headers: { ...admin, "content-type": "application/json" },
      body: JSON.stringify({ name: "grafana", role: "viewer" }),
    });
    expect(created.status).toBe(201);
    expect(created.headers.get("cache-control")).toBe("no-store");
    const { key, api_key } = (await created.json()) as { key: string; api_key: { id: string } };
    const viewer = { authorization: `Bearer ${key}` };
    expect((await fetch(`${node.apiUrl}/api/v1/sensors`, { headers: viewer })).status).toBe(200);
    expect((await fetch(`${node.apiUrl}/api/v1/supervision`, { headers: viewer })).status).toBe(403);
    const listed = await (await fetch(`${node.apiUrl}/api/v1/admin/api-keys`, { headers: admin })).text();
    expect(listed).toContain(api_key.id);
    expect(listed).not.toContain(key);
    const revoked = await fetch(`${node.apiUrl}/api/v1/admin/api-keys/${api_key.id}`, {
      method: "DELETE",
      headers: admin,
    });
    expect(revoked.status).toBe(200);
    expect((await fetch(`${node.apiUrl}/api/v1/sensors`, { headers: viewer })).status).toBe(401);

    const audit = (await (
      await fetch(`${node.apiUrl}/api/v1/audit?limit=10`, { headers: admin })
    ).json()) as {
      audit: { actor: string; method: string; path: string; status: number; outcome: string }[];
    };
    const trail = audit.audit.map((r) => [r.method, r.path, r.status, r.actor]);
    expect(trail).toContainEqual(["POST", "/api/v1/admin/api-keys", 201, "bootstrap-key"]);
    expect(trail).toContainEqual(["DELETE", `/api/v1/admin/api-keys/${api_key.id}`, 200, "bootstrap-key"]);
    expect(trail).toContainEqual(["DELETE", `/schema-registry/subjects/${SUBJECT}`, 401, "anonymous"]);
    // secrets never in the audit trail
    expect(JSON.stringify(audit)).not.toContain(key);
    expect(JSON.stringify(audit)).not.toContain(adminKey);
    expect((await fetch(`${node.apiUrl}/api/v1/audit`, { headers: viewer })).status).toBe(401);
  });
});
