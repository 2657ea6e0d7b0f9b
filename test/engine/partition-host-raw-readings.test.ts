import { afterEach, describe, expect, test } from "bun:test";
import { inProcessHosts } from "../../engine/in-process-hosts.ts";
import type { PartitionHostSetup } from "../../engine/partition-host-setup.ts";
import { ErrorCodes } from "../../messages/errors.ts";
import type { HostOutput } from "../../messages/host-protocol.ts";
import { eventually } from "../node/node-fixture.ts";
import { WINDOWS_ONLY } from "./engine-fixture.ts";

const T0 = Date.parse("2026-12-01T10:00:00Z");
const encoder = new TextEncoder();

let stop: (() => Promise<void>) | undefined;
afterEach(async () => {
  await stop?.();
  stop = undefined;
});

/** a host (in-process: the same code as a worker) that takes traffic readings only */
function startHost() {
  const setup: PartitionHostSetup = { ...WINDOWS_ONLY, acceptTypes: ["traffic"], inputTopic: "bench.input" };
  const hosts = inProcessHosts(setup);
  stop = () => hosts.stop();
  const outputs: HostOutput[] = [];
  hosts.onOutput((output) => outputs.push(output));
  let batch = 0;
  const send = (partition: number, offset: number, value: Uint8Array, jsonStart = 0) =>
    expect(hosts.sendRawReading!(0, partition, offset, T0, value, jsonStart)).toBe(true);
  /** a checkpoint mark; resolves with the outputs up to its answer */
  const mark = async (): Promise<HostOutput[]> => {
    const id = ++batch;
    hosts.sendControl(0, { type: "mark", batch: id, checkpoint: true });
    hosts.flush();
    const answered = await eventually(
      () => outputs.findIndex((o) => o.type === "mark" && o.batch === id),
      (at) => at >= 0,
    );
    return outputs.splice(0, answered + 1);
  };
  return { send, mark };
}

const reading = (type: "traffic" | "environment", sensor: string, second: number) =>
  encoder.encode(
    JSON.stringify(
      type === "traffic"
        ? {
            type,
            sensor_id: sensor,
            timestamp: new Date(T0 + second * 1000).toISOString(),
            vehicle_count: 10,
            avg_speed: 40,
            location: { lat: 52, lon: 4 },
          }
        : {
            type,
            sensor_id: sensor,
            timestamp: new Date(T0 + second * 1000).toISOString(),
            temperature: 20,
            humidity: 50,
            air_quality_index: 10,
          },
    ),
  );

describe("raw readings read in the partition host", () => {
  test("readings of the job's type reach their windows; each partition's highest event time goes back ahead of the mark's answer", async () => {
    const { send, mark } = startHost();
    send(0, 0, reading("traffic", "a", 3));
    send(0, 1, reading("traffic", "a", 1));
    // framed: the JSON starts past a 5-byte header
    send(1, 0, Uint8Array.of(0, 0, 0, 0, 7, ...reading("traffic", "b", 2)), 5);
    const outputs = await mark();
    const times = outputs.filter((o) => o.type === "event-times");
    expect(times).toEqual([
      { type: "event-times", batch: 1, worker: 0, times: [0, T0 + 3000, 1, T0 + 2000] },
    ]);
    expect(outputs.indexOf(times[0]!)).toBe(outputs.length - 2);
    const states = outputs.filter((o) => o.type === "state").map((o) => o.type === "state" && o.key);
    expect(states.sort()).toEqual(["traffic:0:a", "traffic:1:b"]);
  });

  test("a reading of another type moves its partition's event time but reaches no actor", async () => {
    const { send, mark } = startHost();
    send(2, 5, reading("environment", "e", 9));
    const outputs = await mark();
    expect(
      outputs.filter((o) => o.type === "event-times").map((o) => o.type === "event-times" && o.times),
    ).toEqual([[2, T0 + 9000]]);
    expect(outputs.filter((o) => o.type === "state" || o.type === "window")).toEqual([]);
  });

  test("a mark with no reading before it carries no event times", async () => {
    const { send, mark } = startHost();
    send(0, 0, reading("traffic", "a", 1));
    await mark();
    expect((await mark()).filter((o) => o.type === "event-times")).toEqual([]);
  });

  test.each([
    [
      "a reading the schema refuses",
      encoder.encode('{"type":"traffic","sensor_id":"a"}'),
      ErrorCodes.SCHEMA_VIOLATION,
    ],
    ["a value that is not JSON", encoder.encode('{"type":'), ErrorCodes.MALFORMED_JSON],
  ])(
    "%s is a dead letter of the input topic with its reason and bytes; the host goes on",
    async (_, value, code) => {
      const { send, mark } = startHost();
      send(4, 41, value);
      send(4, 42, reading("traffic", "a", 1));
      const outputs = await mark();
      const letters = outputs.filter((o) => o.type === "input-dead-letter");
      expect(letters).toHaveLength(1);
      const letter = letters[0]!.type === "input-dead-letter" ? letters[0]!.deadLetter : undefined;
      expect(letter).toMatchObject({ source: "log:bench.input/4@41", code });
      expect(letter!.reason.length).toBeGreaterThan(0);
      expect(Buffer.from(letter!.payload_base64, "base64")).toEqual(Buffer.from(value));
      // the refused value moves no event time; the good reading after it does and is windowed
      expect(
        outputs.filter((o) => o.type === "event-times").map((o) => o.type === "event-times" && o.times),
      ).toEqual([[4, T0 + 1000]]);
      expect(outputs.some((o) => o.type === "state" && o.key === "traffic:4:a")).toBe(true);
    },
  );
});
