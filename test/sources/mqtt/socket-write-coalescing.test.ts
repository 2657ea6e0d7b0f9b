import { afterEach, describe, expect, test } from "bun:test";
import { connect, createServer, type Server, type Socket } from "node:net";
import { coalesceWrites } from "../../../sources/mqtt/socket-write-coalescing.ts";

/** a loopback server whose accepted socket coalesces its writes; the client reads them */
async function pair(delayMs: number): Promise<{ server: Server; sender: Socket; receiver: Socket }> {
  let accepted: (socket: Socket) => void = () => {};
  const sender = new Promise<Socket>((resolve) => {
    accepted = resolve;
  });
  const server = createServer((socket) => {
    coalesceWrites(socket, delayMs);
    accepted(socket);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", () => resolve()));
  const port = (server.address() as { port: number }).port;
  const receiver = await new Promise<Socket>((resolve) => {
    const socket = connect(port, "127.0.0.1", () => resolve(socket));
  });
  return { server, sender: await sender, receiver };
}

function collect(socket: Socket): { bytes: () => Buffer; ended: Promise<void> } {
  const chunks: Buffer[] = [];
  socket.on("data", (chunk: Buffer) => chunks.push(chunk));
  const ended = new Promise<void>((resolve) => socket.once("end", () => resolve()));
  return { bytes: () => Buffer.concat(chunks), ended };
}

const nextTurn = () => new Promise((resolve) => setImmediate(resolve));
const open: Server[] = [];

afterEach(() => {
  for (const server of open.splice(0)) server.close();
});

describe("coalesceWrites", () => {
  test("writes made over many event-loop turns arrive whole and in order", async () => {
    const { server, sender, receiver } = await pair(5);
    open.push(server);
    const received = collect(receiver);
    const expected: number[] = [];
    for (let i = 0; i < 300; i++) {
      sender.write(Uint8Array.of(i % 256, (i * 7) % 256));
      expected.push(i % 256, (i * 7) % 256);
      if (i % 3 === 0) await nextTurn();
    }
    sender.end();
    await received.ended;
    expect([...received.bytes()]).toEqual(expected);
    receiver.destroy();
  });

  test("end() sends what is held at once, without waiting for the delay", async () => {
    const { server, sender, receiver } = await pair(60_000);
    open.push(server);
    const received = collect(receiver);
    sender.write("held ");
    sender.end("and the last words");
    await received.ended;
    expect(received.bytes().toString()).toBe("held and the last words");
    receiver.destroy();
  });

  test("destroy() sends what is held before the socket goes (a refusal's CONNACK reaches the client)", async () => {
    const { server, sender, receiver } = await pair(60_000);
    open.push(server);
    const received = collect(receiver);
    const closed = new Promise<void>((resolve) => receiver.once("close", () => resolve()));
    sender.write("refused: not authorized");
    sender.destroy();
    await closed;
    expect(received.bytes().toString()).toBe("refused: not authorized");
  });

  test("with one write per turn the receiver sees them joined into fewer reads", async () => {
    const { server, sender, receiver } = await pair(60_000);
    open.push(server);
    let reads = 0;
    receiver.on("data", () => reads++);
    const ended = new Promise<void>((resolve) => receiver.once("end", () => resolve()));
    for (let i = 0; i < 50; i++) {
      sender.write("x");
      await nextTurn();
    }
    sender.end();
    await ended;
    // 50 writes in 50 turns, all held until end(); uncoalesced they would be up to 50 sends
    expect(reads).toBeLessThan(50);
    receiver.destroy();
  });
});
