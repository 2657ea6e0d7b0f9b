import { expect, test } from "bun:test";
import mqtt from "mqtt";
import { Topics } from "../../messages/topics.ts";
import { eventually, startTestNode, trafficReading } from "./node-fixture.ts";

/**
 * Regression: with one window actor per partition, the readings of sensors sharing a partition
 * reached it in the order the scheduler ran their sensor actors (64 messages a turn), so a
 * sensor's readings could land behind another's later ones and be called late. Window actors
 * are per sensor now; many sensors on one partition, published in bursts, must lose nothing.
 */
test("readings of many sensors sharing one partition are never late because of actor scheduling", async () => {
  const { node, cleanup } = await startTestNode({ workers: 1, partitions: 1, graceMs: 0 });
  const client = await mqtt.connectAsync(node.mqttUrl);
  try {
    const sensors = Array.from({ length: 20 }, (_, i) => `traffic_o${i}`);
    const start = Date.now() - 60_000;
    const sends: Promise<unknown>[] = [];
    for (let i = 0; i < 50; i++)
      for (const sensor of sensors)
        sends.push(
          client.publishAsync(
            `city/sensors/traffic/${sensor}`,
            JSON.stringify(trafficReading(sensor, start + i * 100)),
            {
              qos: 1,
            },
          ),
        );
    await Promise.all(sends);
    const processed = await eventually(
      () => node.view.sensorList().reduce((sum, s) => sum + s.readings, 0),
      (n) => n >= sensors.length * 50,
    );
    expect(processed).toBe(sensors.length * 50);
    await Bun.sleep(500);
    const late = await node.log.read({ topic: Topics.lateOf(Topics.sensorsRaw), partition: 0 });
    expect(late.length).toBe(0);
  } finally {
    await client.endAsync();
    await cleanup();
  }
});
