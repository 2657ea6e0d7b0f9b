import { describe, expect, test } from "bun:test";
import {
  distinctPorts,
  PortTakenError,
  restartOnSamePorts,
  saysPortTaken,
  startOnFreePorts,
} from "../../testkit/free-port.ts";

describe("saysPortTaken", () => {
  test.each([
    ["Mosquitto", "1733 Error: Address already in use", true],
    ["Kafka", "Socket server failed to bind to 127.0.0.1:41235: Address already in use.", true],
    ["Prometheus", 'err="listen tcp 127.0.0.1:9090: bind: address already in use"', true],
    ["QuestDB", "NetworkError: [98] could not bind socket [who=pg-server, bindTo=127.0.0.1:34835]", true],
    ["Node", "Error: listen EADDRINUSE: address already in use 127.0.0.1:3000", true],
    ["a refused connection", "connect ECONNREFUSED 127.0.0.1:9092", false],
    ["QuestDB on another errno", "NetworkError: [13] could not bind socket [who=http-server]", false],
    ["an empty log", "", false],
  ])("reads a log of %s as port taken: %p", (_, log, taken) => {
    expect(saysPortTaken(log)).toBe(taken);
  });
});

describe("startOnFreePorts", () => {
  test("chooses new ports and starts again when a start finds a port taken", async () => {
    const tried: number[][] = [];
    const started = await startOnFreePorts(2, async (ports) => {
      tried.push(ports);
      if (tried.length < 3) throw new PortTakenError("taken");
      return ports;
    });
    expect(tried).toHaveLength(3);
    expect(started).toEqual(tried[2]!);
    for (const ports of tried) expect(new Set(ports).size).toBe(2);
  });

  test("gives up with the port-taken error after the bounded number of starts", async () => {
    let starts = 0;
    const failing = startOnFreePorts(
      1,
      async () => {
        starts++;
        throw new PortTakenError("still taken");
      },
      { attempts: 3 },
    );
    await expect(failing).rejects.toBeInstanceOf(PortTakenError);
    expect(starts).toBe(3);
  });

  test("does not start again when a start fails for another reason", async () => {
    let starts = 0;
    const failing = startOnFreePorts(1, async () => {
      starts++;
      throw new Error("bad config");
    });
    await expect(failing).rejects.toThrow("bad config");
    expect(starts).toBe(1);
  });
});

describe("distinctPorts", () => {
  test("asks again when the chooser repeats a port, and fails a chooser that never stops repeating", async () => {
    const answers = [4000, 4000, 4001];
    expect(await distinctPorts(2, async () => answers.shift() ?? 4002)).toEqual([4000, 4001]);
    await expect(distinctPorts(2, async () => 4000)).rejects.toThrow("could not choose 2 distinct ports");
  });
});

describe("restartOnSamePorts", () => {
  test("tries the same start again while its port is taken, then gives up", async () => {
    let starts = 0;
    const started = await restartOnSamePorts(
      async () => {
        if (++starts < 3) throw new PortTakenError("taken for a moment");
        return "up";
      },
      { pauseMs: 1 },
    );
    expect([started, starts]).toEqual(["up", 3]);

    starts = 0;
    const never = restartOnSamePorts(
      async () => {
        starts++;
        throw new PortTakenError("taken for good");
      },
      { attempts: 4, pauseMs: 1 },
    );
    await expect(never).rejects.toBeInstanceOf(PortTakenError);
    expect(starts).toBe(4);
  });
});
