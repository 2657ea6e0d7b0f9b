import { afterAll, beforeAll, expect, test } from "bun:test";
import { MAX_FEED_FRAME_BYTES } from "../../api/server.ts";
import { type ApiUnderTest, startApi } from "./api-fixture.ts";
import { HostileInput, seededRandom } from "./fuzz-input.ts";
import { RawWebSocket } from "./raw-websocket.ts";

/**
 * Bounded fuzzing of the feed WebSocket: random JSON, null, arrays, deep nesting, near-valid
 * operations, binary frames and frames over the size limit. Every frame under the limit gets
 * exactly one reply (`subscribed`, or an error with a code); a frame over it closes that
 * connection with 1009; the server keeps serving and its memory stays bounded.
 */
const SEED = Number(process.env.FUZZ_SEED ?? 90_210);
const FRAMES = 400;

let api: ApiUnderTest;
beforeAll(() => {
  api = startApi();
});
afterAll(() => api.stop());

test(`${FRAMES} random frames each get one clear answer and never stop the server (seed ${SEED})`, async () => {
  const input = new HostileInput(seededRandom(SEED));
  Bun.gc(true);
  const heapBefore = process.memoryUsage().heapUsed;
  let ws = await RawWebSocket.open(api.server.port);
  let closed1009 = 0;
  const deadline = Date.now() + 45_000;
  for (let i = 0; i < FRAMES && Date.now() < deadline; i++) {
    const kind = input.int(10);
    if (kind === 0) {
      // over the limit: this connection is closed with 1009, the next case gets a new one
      ws.sendText("[".repeat(MAX_FEED_FRAME_BYTES + 1 + input.int(100_000)));
      await ws.until(() => ws.closeFrame() !== undefined || ws.ended, 5000);
      expect(ws.closeFrame()?.code, `case ${i}`).toBe(1009);
      closed1009++;
      ws.destroy();
      ws = await RawWebSocket.open(api.server.port);
      continue;
    }
    const before = ws.texts().length;
    if (kind === 1) ws.sendBinary(input.bytes(input.int(MAX_FEED_FRAME_BYTES)));
    else if (kind === 2) ws.sendText(input.deepJson(1 + input.int(2000)));
    else if (kind === 3) ws.sendText("null");
    else if (kind === 4)
      ws.sendText(
        JSON.stringify({
          op: input.pick(["subscribe", "unsubscribe", "Subscribe", ""]),
          feeds: Array.from({ length: input.int(20) }, () =>
            input.pick(["alerts", "windows", "readings", "nope", 1, null]),
          ),
        }),
      );
    else ws.sendText(JSON.stringify(input.json()) ?? "undefined");
    await ws.until(() => ws.texts().length > before, 5000);
    const replies = ws.texts().slice(before);
    expect(replies, `case ${i}`).toHaveLength(1);
    const reply = replies[0]!;
    if (reply.type === "error") {
      expect(typeof reply.code, `case ${i}`).toBe("string");
      expect(String(reply.message), `case ${i}`).not.toMatch(/\n\s+at |\/work\/|TypeError/);
    } else expect(reply.type, `case ${i}`).toBe("subscribed");
  }
  ws.destroy();
  expect(closed1009).toBeGreaterThan(0);
  expect((await fetch(`${api.url}/health`)).status).toBe(200);
  Bun.gc(true);
  expect(process.memoryUsage().heapUsed - heapBefore).toBeLessThan(64 * 1024 * 1024);
}, 60_000);
