import { expect, test } from "bun:test";
import { erasureRoutes } from "../../../api/erasure/routes.ts";
import { ErrorCodes } from "../../../messages/errors.ts";
import type { EntityEraser } from "../../../security/entity-eraser.ts";

/**
 * Deletion requests run one at a time: each rewrites lake files and QuestDB days, and twelve at
 * once (a probe) never finished in 300 s while every later one waited behind them.
 */
test("a deletion request while another runs is answered 429 with Retry-After; once it is done the next one runs", async () => {
  let release: () => void = () => {};
  const held = new Promise<void>((resolve) => {
    release = resolve;
  });
  let calls = 0;
  const slowStore: EntityEraser = {
    store: "slow",
    async erase() {
      calls++;
      if (calls === 1) await held;
      return [{ store: "slow", status: "erased", items: 1 }];
    },
  };
  const app = erasureRoutes({ erasers: () => [slowStore], audit: { record: async () => {} } });
  const send = (id: string) =>
    app.request("/", {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ kind: "sensor", id }),
    });

  const first = send("traffic_1");
  await Bun.sleep(20);
  const second = await send("traffic_2");
  expect(second.status).toBe(429);
  expect(second.headers.get("retry-after")).toBe("5");
  expect(((await second.json()) as { error: { code: string } }).error.code).toBe(ErrorCodes.RATE_LIMITED);

  release();
  expect((await first).status).toBe(200);
  const third = await send("traffic_2");
  expect(third.status).toBe(200);
  expect(calls).toBe(2);
});
