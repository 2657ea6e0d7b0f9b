import { afterAll, beforeAll, expect, test } from "bun:test";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type ApiUnderTest, startApi } from "./api-fixture.ts";

/** HTTPS and WSS with a self-signed certificate made for the test (TLS_CERT_FILE, TLS_KEY_FILE). */
let dir: string;
let api: ApiUnderTest;
let ca: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), "api-tls-"));
  const certFile = join(dir, "cert.pem");
  const keyFile = join(dir, "key.pem");
  const made = Bun.spawnSync([
    "openssl",
    "req",
    "-x509",
    "-newkey",
    "ec",
    "-pkeyopt",
    "ec_paramgen_curve:prime256v1",
    "-nodes",
    "-days",
    "1",
    "-subj",
    "/CN=127.0.0.1",
    "-addext",
    "subjectAltName=IP:127.0.0.1,DNS:localhost",
    "-keyout",
    keyFile,
    "-out",
    certFile,
  ]);
  if (made.exitCode !== 0) throw new Error(`openssl failed: ${made.stderr.toString()}`);
  ca = readFileSync(certFile, "utf8");
  api = startApi({ tls: { certFile, keyFile } });
});
afterAll(async () => {
  await api.stop();
  rmSync(dir, { recursive: true, force: true });
});

test("serves HTTPS with the certificate, and tells browsers to stay on it (HSTS)", async () => {
  expect(api.url).toStartWith("https://127.0.0.1:");
  const response = await fetch(`${api.url}/api/v1/sensors`, { tls: { ca } });
  expect(response.status).toBe(200);
  expect(response.headers.get("strict-transport-security")).toContain("max-age=");
  expect(await response.json()).toMatchObject({ sensors: [] });
});

test("a client that does not trust the certificate is refused by its own TLS check", async () => {
  await expect(fetch(`${api.url}/health`)).rejects.toThrow();
});

test("plain HTTP on the TLS port gets no API answer", async () => {
  const plain = await fetch(api.url.replace("https:", "http:")).then(
    (r) => r.status,
    () => "refused",
  );
  expect(plain === "refused" || plain === 400).toBe(true);
});

test("serves the feeds over WSS", async () => {
  const socket = new WebSocket(`${api.url.replace(/^https/, "wss")}/ws`, {
    tls: { ca },
  } as unknown as string[]);
  const reply = await new Promise<string>((resolve, reject) => {
    socket.onopen = () => socket.send(JSON.stringify({ op: "subscribe", feeds: ["alerts"] }));
    socket.onmessage = (event) => resolve(String(event.data));
    socket.onerror = () => reject(new Error("wss did not open"));
  });
  expect(JSON.parse(reply)).toEqual({ type: "subscribed", feeds: ["alerts"] });
  socket.close();
});
