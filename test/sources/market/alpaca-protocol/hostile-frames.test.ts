import { afterAll, describe, expect, test } from "bun:test";
import { encode } from "@msgpack/msgpack";
import { startTestMarket, TEST_KEYS, type TestMarket, until } from "../market-fixture.ts";

/**
 * Hostile clients against the simulator's stream: every bad message gets Alpaca's error frame,
 * and only the errors Alpaca closes on (auth failed, auth timeout, connection limit) close.
 */
interface RawClient {
  readonly ws: WebSocket;
  readonly messages: unknown[];
  closed: { code: number; reason: string } | undefined;
}

const markets: TestMarket[] = [];
afterAll(async () => {
  for (const m of markets) await m.sim.stop();
});

async function connect(m: TestMarket): Promise<RawClient> {
  const ws = new WebSocket(m.sim.streamUrl);
  const client: RawClient = { ws, messages: [], closed: undefined };
  ws.onmessage = (event) => {
    for (const frame of JSON.parse(String(event.data)) as unknown[]) client.messages.push(frame);
  };
  ws.onclose = (event) => {
    client.closed = { code: event.code, reason: event.reason };
  };
  await until(() => client.messages.length > 0, 5000, "the connected frame");
  expect(client.messages[0]).toEqual({ T: "success", msg: "connected" });
  return client;
}

const auth = (c: RawClient, key = TEST_KEYS.keyId, secret = TEST_KEYS.secret) =>
  c.ws.send(JSON.stringify({ action: "auth", key, secret }));
const lastFrame = (c: RawClient) => c.messages.at(-1) as Record<string, unknown>;
/**
 * The first frame after `send` (regression: the last one was taken, and a trade that arrived in
 * the same poll as the subscription frame was read as the answer, one fresh run in five)
 */
async function answer(c: RawClient, send: () => void): Promise<Record<string, unknown>> {
  const before = c.messages.length;
  send();
  await until(() => c.messages.length > before || c.closed !== undefined, 5000, "an answer");
  return (c.messages.length > before ? c.messages[before] : lastFrame(c)) as Record<string, unknown>;
}

describe("the simulator's stream under hostile clients", () => {
  const market = (authTimeoutMs = 10_000) => {
    const m = startTestMarket({ authTimeoutMs });
    markets.push(m);
    return m;
  };

  test.each([
    { name: "bad JSON", send: "{not json", code: 400 },
    { name: "a JSON array", send: "[1,2]", code: 400 },
    { name: "an unknown action", send: JSON.stringify({ action: "launch" }), code: 400 },
    {
      name: "a subscribe before auth",
      send: JSON.stringify({ action: "subscribe", trades: ["AAPL"] }),
      code: 401,
    },
  ])("$name is answered with error $code and the connection stays open", async ({ send, code }) => {
    const c = await connect(market());
    expect(await answer(c, () => c.ws.send(send))).toMatchObject({ T: "error", code });
    expect(c.closed).toBeUndefined();
    expect(await answer(c, () => auth(c))).toEqual({ T: "success", msg: "authenticated" });
    c.ws.close();
  });

  test.each([
    { name: "an unknown channel", message: { action: "subscribe", orders: ["AAPL"] }, code: 410 },
    { name: "a symbol that is not text", message: { action: "subscribe", trades: [42] }, code: 400 },
    {
      name: "a second auth",
      message: { action: "auth", key: TEST_KEYS.keyId, secret: TEST_KEYS.secret },
      code: 403,
    },
  ])("after auth, $name is answered with error $code", async ({ message, code }) => {
    const c = await connect(market());
    await answer(c, () => auth(c));
    expect(await answer(c, () => c.ws.send(JSON.stringify(message)))).toMatchObject({ T: "error", code });
    expect(c.closed).toBeUndefined();
    c.ws.close();
  });

  test("a wrong secret is answered with 402 and the connection is closed", async () => {
    const c = await connect(market());
    expect(await answer(c, () => auth(c, TEST_KEYS.keyId, "wrong"))).toMatchObject({ T: "error", code: 402 });
    await until(() => c.closed !== undefined, 5000, "the close");
  });

  test("a client that never authenticates gets 404 (auth timeout) and is closed", async () => {
    const c = await connect(market(300));
    await until(() => c.closed !== undefined, 5000, "the close");
    expect(lastFrame(c)).toMatchObject({ T: "error", code: 404 });
  });

  test("a frame over 64 KiB closes the connection with 1009 (message too big)", async () => {
    const c = await connect(market());
    c.ws.send(JSON.stringify({ action: "auth", key: "x".repeat(100_000), secret: "y" }));
    await until(() => c.closed !== undefined, 5000, "the close");
    expect(c.closed!.code).toBe(1009);
  });

  test("subscribing to more symbols than the limit is answered with 405", async () => {
    const c = await connect(market());
    await answer(c, () => auth(c));
    const symbols = Array.from({ length: 2001 }, (_, i) => `S${i}`);
    expect(
      await answer(c, () => c.ws.send(JSON.stringify({ action: "subscribe", trades: symbols }))),
    ).toMatchObject({
      T: "error",
      code: 405,
    });
    c.ws.close();
  });

  test("JSON clients get RFC-3339 times; the subscription frame lists every channel", async () => {
    const m = startTestMarket({ speed: 60 });
    markets.push(m);
    const c = await connect(m);
    await answer(c, () => auth(c));
    const subscription = await answer(c, () =>
      c.ws.send(JSON.stringify({ action: "subscribe", trades: ["AAPL"], bars: ["*"] })),
    );
    expect(subscription).toMatchObject({
      T: "subscription",
      trades: ["AAPL"],
      quotes: [],
      bars: ["*"],
      dailyBars: [],
    });
    await until(() => c.messages.some((f) => (f as { T?: string }).T === "t"), 10_000, "a trade");
    const trade = c.messages.find((f) => (f as { T?: string }).T === "t") as { t: string; S: string };
    expect(trade.S).toBe("AAPL");
    expect(trade.t).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/);
    c.ws.close();
  });

  test("msgpack bytes from a JSON client are invalid syntax, not a crash", async () => {
    const c = await connect(market());
    expect(await answer(c, () => c.ws.send(encode({ action: "auth" })))).toMatchObject({
      T: "error",
      code: 400,
    });
    c.ws.close();
  });
});
