import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import type { ProcessedReading } from "../../messages/processed-reading.ts";
import { type ApiUnderTest, startApi } from "./api-fixture.ts";

let api: ApiUnderTest;
beforeAll(() => {
  api = startApi();
  for (const [i, id] of ["s1", "=cmd|' /C calc'!A0", "s,3"].entries()) {
    const reading: ProcessedReading = {
      ...{ sensor_id: id, type: "traffic", event_time: 60_000 + i, values: { vehicle_count: 10 } },
      ...{ passed: true, quality_score: 1, issues: [], anomaly_score: 0, partition: 0, offset: i },
    };
    api.view.reading(reading);
  }
});
afterAll(() => api.stop());

describe("the OpenAPI document", () => {
  test("is OpenAPI 3.1, generated from the routes, with the versioned paths and bearer security", async () => {
    const doc = (await (await fetch(`${api.url}/openapi.json`)).json()) as {
      openapi: string;
      paths: Record<string, Record<string, { parameters?: { name: string }[] }>>;
      components: { securitySchemes: Record<string, unknown>; schemas: Record<string, unknown> };
    };
    expect(doc.openapi).toBe("3.1.0");
    for (const path of [
      "/api/v1/sensors",
      "/api/v1/sensors/{id}",
      "/api/v1/windows/{type}",
      "/api/v1/predictions",
      "/api/v1/admin/api-keys",
      "/api/v1/admin/api-keys/{id}",
      "/api/v1/audit",
    ])
      expect(Object.keys(doc.paths)).toContain(path);
    expect(Object.keys(doc.paths).filter((p) => p.startsWith("/api/") && !p.startsWith("/api/v1/"))).toEqual(
      [],
    );
    expect(doc.paths["/api/v1/sensors"]!.get!.parameters!.map((p) => p.name)).toEqual(
      expect.arrayContaining(["type", "limit", "offset", "fields", "format"]),
    );
    expect(doc.components.securitySchemes.bearer).toMatchObject({ type: "http", scheme: "bearer" });
    expect(Object.keys(doc.components.schemas)).toEqual(
      expect.arrayContaining(["Error", "Page", "SensorSummary"]),
    );
  });

  test("Swagger UI at /docs points at it", async () => {
    const page = await fetch(`${api.url}/docs`);
    expect(page.status).toBe(200);
    const html = await page.text();
    expect(html).toContain("swagger-ui");
    expect(html).toContain("/openapi.json");
  });
});

describe("versions", () => {
  test("the unversioned path answers the same, marked deprecated with its successor", async () => {
    const v1 = await fetch(`${api.url}/api/v1/sensors?limit=2`);
    const old = await fetch(`${api.url}/api/sensors?limit=2`);
    expect(await old.json()).toEqual(await v1.json());
    expect(v1.headers.get("deprecation")).toBeNull();
    expect(old.headers.get("deprecation")).toBe("true");
    expect(old.headers.get("link")).toBe('</api/v1/sensors>; rel="successor-version"');
  });

  test("a query that fails a route's declared schema is the platform's 400", async () => {
    const response = await fetch(`${api.url}/api/v1/sensors?format=xml`);
    expect(response.status).toBe(400);
    expect(((await response.json()) as { error: { code: string } }).error.code).toBe("BAD_REQUEST");
  });
});

describe("response shaping", () => {
  test("fields= keeps only the named fields", async () => {
    const body = (await (await fetch(`${api.url}/api/v1/sensors?fields=sensor_id,readings`)).json()) as {
      sensors: Record<string, unknown>[];
    };
    expect(body.sensors.map((s) => Object.keys(s).sort())).toEqual([
      ["readings", "sensor_id"],
      ["readings", "sensor_id"],
      ["readings", "sensor_id"],
    ]);
  });

  test.each(["fields=a;b", "fields=,", `fields=${"a,".repeat(40)}a`])("a bad %s is 400", async (query) => {
    expect((await fetch(`${api.url}/api/v1/sensors?${query}`)).status).toBe(400);
  });

  test("format=csv and Accept: text/csv answer RFC 4180 CSV, formulas defused, the page in headers", async () => {
    const asked: { url: string; headers: Record<string, string> }[] = [
      { url: "?format=csv&fields=sensor_id,type", headers: {} },
      { url: "?fields=sensor_id,type", headers: { accept: "text/csv" } },
    ];
    for (const init of asked) {
      const response = await fetch(`${api.url}/api/v1/sensors${init.url}&limit=2`, { headers: init.headers });
      expect(response.headers.get("content-type")).toStartWith("text/csv");
      expect(response.headers.get("x-total-count")).toBe("3");
      expect(response.headers.get("x-next-offset")).toBe("2");
      expect(await response.text()).toBe(
        `sensor_id,type\r\n'=cmd|' /C calc'!A0,traffic\r\n"s,3",traffic\r\n`,
      );
    }
    const quoted = await (
      await fetch(`${api.url}/api/v1/sensors?format=csv&fields=sensor_id&offset=2`)
    ).text();
    expect(quoted).toBe("sensor_id\r\ns1\r\n");
  });
});
