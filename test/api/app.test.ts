import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { startingApp } from "../../api/app.ts";
import { MAX_PAGE_LIMIT } from "../../api/pagination.ts";
import type { ProcessedReading } from "../../messages/processed-reading.ts";
import { type ApiUnderTest, startApi } from "./api-fixture.ts";

test("while the node starts, /health answers 503 starting and every other route asks to retry", async () => {
  const app = startingApp();
  const health = await app.request("/health");
  expect(health.status).toBe(503);
  expect(await health.json()).toEqual({ status: "starting" });
  const other = await app.request("/api/sensors");
  expect(other.status).toBe(503);
  expect(((await other.json()) as { error: { code: string } }).error.code).toBe("STARTING");
});

const reading = (sensorId: string, eventTime: number): ProcessedReading => ({
  sensor_id: sensorId,
  type: "traffic",
  event_time: eventTime,
  values: { vehicle_count: 10 },
  passed: true,
  quality_score: 1,
  issues: [],
  anomaly_score: 0,
  partition: 0,
  offset: eventTime,
});

interface ErrorBody {
  error: { code: string; message: string };
}

describe("the REST API on a real Bun.serve", () => {
  let api: ApiUnderTest;
  beforeAll(() => {
    api = startApi({ view: { maxSensors: 300 } });
    for (let i = 0; i < 250; i++) api.view.reading(reading(`s${String(i).padStart(3, "0")}`, 60_000 + i));
  });
  afterAll(() => api.stop());

  test("lists page with limit and offset, and say where the next page starts", async () => {
    const first = (await (await fetch(`${api.url}/api/sensors?limit=100`)).json()) as {
      sensors: { sensor_id: string }[];
      page: unknown;
    };
    expect(first.sensors).toHaveLength(100);
    expect(first.sensors[0]!.sensor_id).toBe("s000");
    expect(first.page).toEqual({ limit: 100, offset: 0, total: 250, next_offset: 100 });
    const last = (await (await fetch(`${api.url}/api/sensors?limit=100&offset=200`)).json()) as {
      sensors: { sensor_id: string }[];
      page: unknown;
    };
    expect(last.sensors.map((s) => s.sensor_id)).toHaveLength(50);
    expect(last.page).toEqual({ limit: 100, offset: 200, total: 250, next_offset: null });
    const quality = (await (await fetch(`${api.url}/api/quality?limit=10&offset=5`)).json()) as {
      bySensor: { sensor_id: string }[];
      page: unknown;
    };
    expect(quality.bySensor.map((s) => s.sensor_id)[0]).toBe("s005");
    expect(quality.page).toEqual({ limit: 10, offset: 5, total: 250, next_offset: 15 });
  });

  test.each([
    "/api/sensors?limit=0",
    `/api/sensors?limit=${MAX_PAGE_LIMIT + 1}`,
    "/api/sensors?limit=abc",
    "/api/sensors?limit=1e3",
    "/api/sensors?limit=-1",
    "/api/sensors?limit=01",
    "/api/sensors?offset=-1",
    "/api/sensors?offset=1.5",
    `/api/sensors?offset=${"9".repeat(30)}`,
    "/api/sensors?type=bogus",
    "/api/windows/bogus",
    "/api/predictions?limit=",
    "/api/alerts?offset=NaN",
    "/api/quality?limit=Infinity",
    "/api/drift?limit=%00",
  ])("a bad parameter is 400 with a code and a message: %s", async (path) => {
    const response = await fetch(`${api.url}${path}`);
    expect(response.status).toBe(400);
    const body = (await response.json()) as ErrorBody;
    expect(body.error.code).toBe("BAD_REQUEST");
    expect(body.error.message.length).toBeLessThan(300);
  });

  test.each([
    ["a POST to a GET route", "POST", "/api/sensors", 405],
    ["a DELETE of /health", "DELETE", "/health", 405],
    ["a PUT of a sensor", "PUT", "/api/sensors/s001", 405],
    ["an unknown route", "GET", "/api/nothing", 404],
    ["an unknown sensor", "GET", "/api/sensors/nobody", 404],
  ])("%s gets its status with a JSON error", async (_name, method, path, status) => {
    const response = await fetch(`${api.url}${path}`, { method, body: method === "GET" ? null : "{}" });
    expect(response.status).toBe(status);
    const body = (await response.json()) as ErrorBody;
    expect(body.error.code).toBe(status === 405 ? "METHOD_NOT_ALLOWED" : "NOT_FOUND");
    if (status === 405) expect(response.headers.get("allow")).toContain("GET");
  });

  test.each([
    ["a 20 KiB body on an API route", "/api/sensors", 20 * 1024, false],
    ["a 20 KiB chunked body on an API route", "/api/sensors", 20 * 1024, true],
    [
      "a 1.5 MiB body on the schema registry",
      "/schema-registry/subjects/x/versions",
      1.5 * 1024 * 1024,
      false,
    ],
    [
      "a 1.5 MiB chunked body on the schema registry",
      "/schema-registry/subjects/x/versions",
      1.5 * 1024 * 1024,
      true,
    ],
  ])("%s is refused 413 with a JSON error", async (_name, path, bytes, chunked) => {
    const payload = new Uint8Array(bytes).fill(0x61);
    const body = chunked
      ? new ReadableStream<Uint8Array>({
          start(controller) {
            for (let at = 0; at < payload.length; at += 64 * 1024)
              controller.enqueue(payload.subarray(at, at + 64 * 1024));
            controller.close();
          },
        })
      : payload;
    // a write names its JSON type: a text/plain one is refused before its body is read (CSRF)
    const response = await fetch(`${api.url}${path}`, {
      method: "POST",
      body,
      headers: { "content-type": "application/json" },
    });
    expect(response.status).toBe(413);
    const error = ((await response.json()) as ErrorBody).error;
    expect(error.code).toBe("PAYLOAD_TOO_LARGE");
  });

  test("a body within the schema registry's cap reaches its routes", async () => {
    const response = await fetch(`${api.url}/schema-registry/subjects/x/versions`, {
      method: "POST",
      body: "a".repeat(512 * 1024),
      headers: { "content-type": "application/json" },
    });
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ bytes: 512 * 1024 });
  });

  test("a body over the server's own cap is refused before any route, with a JSON error (regression: Bun's bare 413)", async () => {
    const response = await fetch(`${api.url}/schema-registry/subjects/x/versions`, {
      method: "POST",
      body: new Uint8Array(5 * 1024 * 1024),
    });
    expect(response.status).toBe(413);
    expect(((await response.json()) as ErrorBody).error.code).toBe("PAYLOAD_TOO_LARGE");
  });
});

describe("/health", () => {
  test("is 503 with each failing check's reason, and 200 when all pass", async () => {
    let mqttOk = false;
    const api = startApi({
      health: [
        { name: "actors", check: () => ({ ok: true }) },
        { name: "mqtt", check: () => (mqttOk ? { ok: true } : { ok: false, reason: "reconnecting" }) },
      ],
    });
    try {
      const failing = await fetch(`${api.url}/health`);
      expect(failing.status).toBe(503);
      expect(await failing.json()).toMatchObject({
        status: "unhealthy",
        checks: { actors: { ok: true }, mqtt: { ok: false, reason: "reconnecting" } },
      });
      mqttOk = true;
      const passing = await fetch(`${api.url}/health`);
      expect(passing.status).toBe(200);
      expect(((await passing.json()) as { status: string }).status).toBe("ready");
    } finally {
      await api.stop();
    }
  });
});

test("/metrics counts the read model's evictions", async () => {
  const api = startApi({ view: { maxSensors: 10 } });
  try {
    for (let i = 0; i < 25; i++) api.view.reading(reading(`flood_${i}`, i));
    const metrics = await (await fetch(`${api.url}/metrics`)).text();
    expect(metrics).toContain('platform_read_model_evictions_total{part="sensors"} 15');
    expect(metrics).toContain('platform_read_model_keys{part="sensors"} 10');
  } finally {
    await api.stop();
  }
});
