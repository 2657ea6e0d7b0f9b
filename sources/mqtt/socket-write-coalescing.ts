import type { Socket } from "node:net";

/**
 * Holds a socket's writes for up to `delayMs` and sends them together: the embedded broker's
 * side of Nagle's algorithm, done in user space.
 *
 * Why: Bun sends what one event-loop turn wrote in one syscall, but the broker's thread turns
 * once per socket read, so at 10k readings/s it made ~7,300 loopback sends a second (strace of
 * the thread), each a trip through the kernel's TCP stack on the sending core and a wakeup and a
 * read on the receiving one (a third of the broker thread's samples were the kernel's). Corked
 * for a millisecond, a connection sends at most ~1,000 times a second however many packets
 * it carries.
 *
 * What it costs: a packet waits at most `delayMs` more (a device's PUBACK, a reading forwarded
 * to the ingest). It changes no order and no acknowledgement: a PUBACK still leaves only after
 * what it acknowledges, later by at most the delay. `end()` sends what is held (the stream
 * uncorks on end), and so does `destroy()`: aedes refuses a CONNECT by writing its CONNACK and
 * destroying the socket at once, and without the flush the client never learnt why it was cut.
 */
export function coalesceWrites(socket: Socket, delayMs: number): void {
  const write = socket.write;
  const destroy = socket.destroy;
  let flushTimer: ReturnType<typeof setTimeout> | undefined;
  const flush = () => {
    flushTimer = undefined;
    socket.uncork();
  };
  socket.destroy = function (this: Socket, ...args: Parameters<Socket["destroy"]>): Socket {
    if (flushTimer !== undefined) {
      clearTimeout(flushTimer);
      flush();
    }
    return destroy.apply(this, args);
  } as Socket["destroy"];
  socket.write = function (this: Socket, ...args: Parameters<Socket["write"]>): boolean {
    if (flushTimer === undefined && !socket.destroyed) {
      socket.cork();
      flushTimer = setTimeout(flush, delayMs);
    }
    return write.apply(this, args);
  } as Socket["write"];
  socket.once("close", () => {
    if (flushTimer !== undefined) clearTimeout(flushTimer);
    flushTimer = undefined;
  });
}
