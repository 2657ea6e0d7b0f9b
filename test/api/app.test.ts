import { expect, test } from "bun:test";
import { startingApp } from "../../api/app.ts";

test("while the node starts, /health answers 503 starting and every other route asks to retry", async () => {
  const app = startingApp();
  const health = await app.request("/health");
  expect(health.status).toBe(503);
  expect(await health.json()).toEqual({ status: "starting" });
  const other = await app.request("/api/sensors");
  expect(other.status).toBe(503);
  expect(((await other.json()) as { error: { code: string } }).error.code).toBe("STARTING");
});
