import { createServer } from "node:net";

/**
 * Ports for a test's own servers. The OS calls a port free only at the moment it is asked: between
 * `freePort()` answering and the server binding it, another process (a test running beside this
 * one, an outgoing connection handed that ephemeral port) may take it. A server started on chosen
 * ports therefore starts through `startOnFreePorts`, which chooses again when the bind failed
 * because a port was taken, and a server restarted on the ports it had retries the bind through
 * `restartOnSamePorts` while a short-lived holder lets go.
 */
export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", resolve);
  });
  const address = server.address();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  if (typeof address !== "object" || address === null) throw new Error("the OS gave no free port");
  return address.port;
}

/** where a server's ports come from; a test hands out a taken one to prove the retry */
export type ChoosePort = () => Promise<number>;

/** the server could not bind a port because something else holds it */
export class PortTakenError extends Error {
  override readonly name = "PortTakenError";
}

/**
 * The messages servers print when their bind fails on a taken port: the OS's EADDRINUSE text
 * (Mosquitto, Java's BindException, Go's "bind: address already in use"), and QuestDB's
 * "[98] could not bind socket" (98 is EADDRINUSE on Linux).
 */
const PORT_TAKEN = /address already in use|EADDRINUSE|\[98\] could not bind socket/i;

export function saysPortTaken(output: string): boolean {
  return PORT_TAKEN.test(output);
}

/** `count` different ports from `choosePort` (two free ports asked one after the other may be one) */
export async function distinctPorts(count: number, choosePort: ChoosePort = freePort): Promise<number[]> {
  const ports = new Set<number>();
  // bounded: a chooser that keeps answering the same port is a broken test, not a slow one
  for (let asked = 0; ports.size < count; asked++) {
    if (asked >= count * 20) throw new Error(`could not choose ${count} distinct ports`);
    ports.add(await choosePort());
  }
  return [...ports];
}

export interface PortRetryOptions {
  readonly choosePort?: ChoosePort;
  /** starts in all, the first included (default 5) */
  readonly attempts?: number;
}

/**
 * Starts a server on `count` freshly chosen ports; when `start` throws `PortTakenError`, chooses
 * new ports and starts again, at most `attempts` times. Any other failure ends it at once.
 */
export async function startOnFreePorts<T>(
  count: number,
  start: (ports: number[]) => Promise<T>,
  options: PortRetryOptions = {},
): Promise<T> {
  const attempts = options.attempts ?? 5;
  for (let attempt = 1; ; attempt++) {
    const ports = await distinctPorts(count, options.choosePort);
    try {
      return await start(ports);
    } catch (error) {
      if (!(error instanceof PortTakenError) || attempt >= attempts) throw error;
    }
  }
}

/**
 * Starts a server again on the ports it had (its clients know them). A port taken meanwhile is
 * usually held for a moment only (an outgoing connection given it as its ephemeral port), so the
 * start is tried again after a pause, at most `attempts` times; then the `PortTakenError` stands.
 */
export async function restartOnSamePorts<T>(
  start: () => Promise<T>,
  options: {
    readonly attempts?: number;
    readonly pauseMs?: number;
    /** told each time a start found a port taken (a test lets go of the port then) */
    readonly onPortTaken?: (error: PortTakenError) => void;
  } = {},
): Promise<T> {
  const attempts = options.attempts ?? 10;
  for (let attempt = 1; ; attempt++) {
    try {
      return await start();
    } catch (error) {
      if (!(error instanceof PortTakenError) || attempt >= attempts) throw error;
      options.onPortTaken?.(error);
      await Bun.sleep(options.pauseMs ?? 500);
    }
  }
}
