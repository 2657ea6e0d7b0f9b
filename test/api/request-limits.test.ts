import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { connect } from "node:net";
import { SERVER_MAX_BODY_BYTES } from "../../api/body-limits.ts";
import { MAX_REQUEST_HEADER_BYTES, requestHeaderBytes } from "../../api/request-limits.ts";
import { type ApiUnderTest, startApi } from "./api-fixture.ts";

/**
 * Sends `head` (and then up to `bodyBytes` of body, stopping when the server closes) on a bare
 * socket and returns what came back and how much of the body went out: what a client sees,
 * byte for byte, including Bun's own answers that never reach the app.
 */
async function rawExchange(
  port: number,
  head: string,
  bodyBytes = 0,
): Promise<{ answer: string; sentBody: number }> {
  const socket = connect(port, "127.0.0.1");
  let answer = "";
  let closed = false;
  const done = new Promise<void>((resolve) => {
    socket.on("data", (chunk: Buffer) => {
      answer += chunk.toString("latin1");
    });
    socket.on("close", () => {
      closed = true;
      resolve();
    });
    socket.on("error", () => {
      closed = true;
      resolve();
    });
  });
  await new Promise<void>((resolve) => socket.once("connect", () => resolve()));
  socket.write(head);
  let sentBody = 0;
  const chunk = Buffer.alloc(256 * 1024, 0x61);
  while (sentBody < bodyBytes && !closed) {
    // wait for the socket to take each chunk: the server's close ends the upload, not a timer
    const flushed = socket.write(chunk);
    sentBody += chunk.length;
    if (!flushed)
      await new Promise<void>((resolve) => {
        socket.once("drain", () => resolve());
        socket.once("close", () => resolve());
      });
  }
  if (!closed) socket.end();
  const timeout = setTimeout(() => socket.destroy(), 15_000);
  await done;
  clearTimeout(timeout);
  return { answer, sentBody };
}

const statusOf = (answer: string) => Number(answer.slice(9, 12));
const bodyOf = (answer: string) => answer.slice(answer.indexOf("\r\n\r\n") + 4);

describe("the request line and headers", () => {
  test.each([
    ["a bare GET", new Request("http://h/health"), "GET /health HTTP/1.1\r\n".length],
    [
      "a GET with a query and two headers",
      new Request("http://h/api/sensors?limit=5", { headers: { "x-a": "1", authorization: "Bearer t" } }),
      "GET /api/sensors?limit=5 HTTP/1.1\r\n".length +
        "x-a: 1\r\n".length +
        "authorization: Bearer t\r\n".length,
    ],
  ])("are counted as sent: %s", (_name, request, bytes) => {
    expect(requestHeaderBytes(request)).toBe(bytes);
  });
});

describe("a request over the server's size limits, on a real Bun.serve", () => {
  let api: ApiUnderTest;
  beforeAll(() => {
    api = startApi();
  });
  afterAll(() => api.stop());

  test.each([
    ["one header of 20 KiB (regression: Bun answered a bare 431)", { "x-big": "h".repeat(20 * 1024) }],
    ["a cookie of 60 KiB", { cookie: `session=${"c".repeat(60 * 1024)}` }],
    [
      "120 headers of 200 bytes",
      Object.fromEntries(Array.from({ length: 120 }, (_, i) => [`x-h${i}`, "v".repeat(200)])),
    ],
  ])("%s is answered 431 HEADERS_TOO_LARGE in the API's shape", async (_name, headers) => {
    const response = await fetch(`${api.url}/api/sensors`, { headers });
    expect(response.status).toBe(431);
    expect(response.headers.get("content-type")).toBe("application/json");
    const body = (await response.json()) as { error: { code: string; message: string } };
    expect(body.error.code).toBe("HEADERS_TOO_LARGE");
    expect(body.error.message).toContain(`over the limit of ${MAX_REQUEST_HEADER_BYTES}`);
  });

  test("headers just within the limit reach the app", async () => {
    const response = await fetch(`${api.url}/health`, { headers: { "x-fill": "h".repeat(15 * 1024) } });
    expect(response.status).toBe(200);
  });

  test("a long URL counts toward the headers", async () => {
    const response = await fetch(`${api.url}/api/sensors?pad=${"p".repeat(20 * 1024)}`);
    expect(response.status).toBe(431);
    expect(((await response.json()) as { error: { code: string } }).error.code).toBe("HEADERS_TOO_LARGE");
  });

  test("a declared body over the server's cap is answered 413 PAYLOAD_TOO_LARGE in the API's shape (regression: Bun answered a bare 413)", async () => {
    const response = await fetch(`${api.url}/schema-registry/subjects/x/versions`, {
      method: "POST",
      body: new Uint8Array(SERVER_MAX_BODY_BYTES + 1),
      headers: { "content-type": "application/json" },
    });
    expect(response.status).toBe(413);
    expect(((await response.json()) as { error: { code: string } }).error.code).toBe("PAYLOAD_TOO_LARGE");
  });

  test("a 200 MB upload is answered before its body is read, and the connection is closed under it", async () => {
    const declared = 200 * 1024 * 1024;
    const { answer, sentBody } = await rawExchange(
      api.server.port,
      `POST /api/sensors HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: ${declared}\r\n\r\n`,
      declared,
    );
    expect(statusOf(answer)).toBe(413);
    expect(JSON.parse(bodyOf(answer))).toMatchObject({ error: { code: "PAYLOAD_TOO_LARGE" } });
    // cut off after what the socket buffers took, far from the 200 MB declared
    expect(sentBody).toBeLessThan(64 * 1024 * 1024);
    expect((await fetch(`${api.url}/health`)).status).toBe(200);
  });

  test("past Bun's own header limit (64 KiB) the answer is still Bun's bare 431, and the server keeps serving", async () => {
    const { answer } = await rawExchange(
      api.server.port,
      `GET /health HTTP/1.1\r\nHost: x\r\nX-Big: ${"h".repeat(100 * 1024)}\r\nConnection: close\r\n\r\n`,
    );
    expect(statusOf(answer)).toBe(431);
    expect((await fetch(`${api.url}/health`)).status).toBe(200);
  });
});
