import { connect, type Socket } from "node:net";

/**
 * A WebSocket client on a bare TCP socket, for what a browser client cannot do on demand:
 * stop reading (TCP back-pressure reaches the server), send any frame (binary, oversized,
 * malformed) and see exactly which frames arrived, close frame included.
 */
export interface RawFrame {
  readonly opcode: number;
  readonly payload: Buffer;
}

export class RawWebSocket {
  private pending = Buffer.alloc(0);
  private handshakeDone = false;
  readonly frames: RawFrame[] = [];
  bytesRead = 0;
  ended = false;
  private waiters: (() => void)[] = [];

  private constructor(private readonly socket: Socket) {
    socket.on("data", (chunk: Buffer) => this.onData(chunk));
    socket.on("end", () => this.notify(() => (this.ended = true)));
    socket.on("close", () => this.notify(() => (this.ended = true)));
    socket.on("error", () => this.notify(() => (this.ended = true)));
  }

  static async open(port: number, path = "/ws"): Promise<RawWebSocket> {
    const socket = connect(port, "127.0.0.1");
    await new Promise<void>((resolve, reject) => {
      socket.once("connect", resolve);
      socket.once("error", reject);
    });
    const ws = new RawWebSocket(socket);
    const key = Buffer.from(crypto.getRandomValues(new Uint8Array(16))).toString("base64");
    socket.write(
      `GET ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
        `Sec-WebSocket-Key: ${key}\r\nSec-WebSocket-Version: 13\r\n\r\n`,
    );
    await ws.until(() => ws.handshakeDone, 5000);
    return ws;
  }

  /** stop reading: the kernel buffers fill and the server's writes back up */
  pause(): void {
    this.socket.pause();
  }

  resume(): void {
    this.socket.resume();
  }

  sendText(text: string): void {
    this.sendFrame(0x1, Buffer.from(text));
  }

  sendBinary(bytes: Uint8Array): void {
    this.sendFrame(0x2, Buffer.from(bytes));
  }

  sendPing(): void {
    this.sendFrame(0x9, Buffer.alloc(0));
  }

  /** client frames are masked (RFC 6455 5.3) */
  sendFrame(opcode: number, payload: Buffer): void {
    const mask = Buffer.from(crypto.getRandomValues(new Uint8Array(4)));
    let header: Buffer;
    if (payload.length < 126) header = Buffer.from([0x80 | opcode, 0x80 | payload.length]);
    else if (payload.length < 65536) {
      header = Buffer.alloc(4);
      header[0] = 0x80 | opcode;
      header[1] = 0x80 | 126;
      header.writeUInt16BE(payload.length, 2);
    } else {
      header = Buffer.alloc(10);
      header[0] = 0x80 | opcode;
      header[1] = 0x80 | 127;
      header.writeBigUInt64BE(BigInt(payload.length), 2);
    }
    const masked = Buffer.alloc(payload.length);
    for (let i = 0; i < payload.length; i++) masked[i] = payload[i]! ^ mask[i % 4]!;
    this.socket.write(Buffer.concat([header, mask, masked]));
  }

  texts(): Record<string, unknown>[] {
    return this.frames
      .filter((f) => f.opcode === 0x1)
      .map((f) => JSON.parse(f.payload.toString("utf8")) as Record<string, unknown>);
  }

  /** the close frame's code and reason, if one arrived */
  closeFrame(): { code: number; reason: string } | undefined {
    const frame = this.frames.find((f) => f.opcode === 0x8);
    if (!frame) return undefined;
    return { code: frame.payload.readUInt16BE(0), reason: frame.payload.subarray(2).toString("utf8") };
  }

  async until(condition: () => boolean, timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!condition()) {
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`condition not met within ${timeoutMs} ms`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, Math.min(left, 200));
        this.waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
  }

  destroy(): void {
    this.socket.destroy();
  }

  private notify(change: () => void): void {
    change();
    const waiters = this.waiters;
    this.waiters = [];
    for (const w of waiters) w();
  }

  private onData(chunk: Buffer): void {
    this.bytesRead += chunk.length;
    this.pending = Buffer.concat([this.pending, chunk]);
    if (!this.handshakeDone) {
      const end = this.pending.indexOf("\r\n\r\n");
      if (end < 0) return;
      const head = this.pending.subarray(0, end).toString("latin1");
      if (!head.startsWith("HTTP/1.1 101")) throw new Error(`no upgrade: ${head.split("\r\n")[0]}`);
      this.pending = this.pending.subarray(end + 4);
      this.handshakeDone = true;
    }
    for (;;) {
      const frame = this.nextFrame();
      if (!frame) break;
      this.frames.push(frame);
    }
    this.notify(() => undefined);
  }

  private nextFrame(): RawFrame | undefined {
    const b = this.pending;
    if (b.length < 2) return undefined;
    let length = b[1]! & 0x7f;
    let offset = 2;
    if (length === 126) {
      if (b.length < 4) return undefined;
      length = b.readUInt16BE(2);
      offset = 4;
    } else if (length === 127) {
      if (b.length < 10) return undefined;
      length = Number(b.readBigUInt64BE(2));
      offset = 10;
    }
    if (b.length < offset + length) return undefined;
    // server frames are never masked and, from Bun, never fragmented for our sizes
    const frame = { opcode: b[0]! & 0x0f, payload: Buffer.from(b.subarray(offset, offset + length)) };
    this.pending = b.subarray(offset + length);
    return frame;
  }
}
