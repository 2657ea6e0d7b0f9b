import { describe, expect, test } from "bun:test";
import { join } from "node:path";
import { Admin } from "@platformatic/kafka";
import mqtt from "mqtt";

/**
 * The servers `bun run infra:up` starts answer for real: Kafka metadata, QuestDB SQL over HTTP,
 * an MQTT publish/subscribe round trip through Mosquitto, and infra/status.sh says "ready" for
 * each. Fails when they are down (start them first), unless SKIP_INFRA_TESTS=1.
 */
const skip = process.env.SKIP_INFRA_TESTS === "1";
const repo = join(import.meta.dir, "..", "..");
const hint = "start the servers with `bun run infra:up` (or set SKIP_INFRA_TESTS=1)";

describe.skipIf(skip)("infra servers", () => {
  test("infra/status.sh reports kafka, questdb and mosquitto ready and exits 0", () => {
    const status = Bun.spawnSync(["bash", join(repo, "infra", "status.sh")], {
      stdout: "pipe",
      stderr: "pipe",
    });
    const output = status.stdout.toString();
    for (const service of ["kafka", "questdb", "mosquitto"]) {
      expect(output, hint).toMatch(new RegExp(`^${service}\\s+ready\\s`, "m"));
    }
    expect(status.exitCode).toBe(0);
  }, 20_000);

  test("infra/status.sh refuses an unknown service name", () => {
    const status = Bun.spawnSync(["bash", join(repo, "infra", "status.sh"), "zookeeper"], { stderr: "pipe" });
    expect(status.exitCode).not.toBe(0);
    expect(status.stderr.toString()).toContain("unknown service 'zookeeper'");
  });

  test("Kafka answers a metadata request with one broker", async () => {
    const admin = new Admin({ clientId: "infra-test", bootstrapBrokers: ["127.0.0.1:9092"], retries: 1 });
    try {
      const metadata = await admin.metadata({ topics: [] });
      expect(metadata.brokers.size).toBe(1);
      expect(metadata.id.length).toBeGreaterThan(0);
    } catch (error) {
      throw new Error(`Kafka does not answer on 127.0.0.1:9092: ${hint}`, { cause: error });
    } finally {
      await admin.close();
    }
  });

  test("QuestDB answers SQL over HTTP", async () => {
    const response = await fetch("http://127.0.0.1:9000/exec?query=select%2040%2B2%20as%20answer").catch(
      (error: unknown) => {
        throw new Error(`QuestDB does not answer on 127.0.0.1:9000: ${hint}`, { cause: error });
      },
    );
    expect(response.status).toBe(200);
    const body = (await response.json()) as { dataset: unknown[][] };
    expect(body.dataset).toEqual([[42]]);
  });

  test("Mosquitto carries an MQTT message from a publisher to a subscriber", async () => {
    const topic = `infra-test/${crypto.randomUUID()}`;
    const options = { connectTimeout: 3000, reconnectPeriod: 0 };
    const subscriber = await mqtt.connectAsync("mqtt://127.0.0.1:1883", options).catch((error: unknown) => {
      throw new Error(`Mosquitto does not answer on 127.0.0.1:1883: ${hint}`, { cause: error });
    });
    const publisher = await mqtt.connectAsync("mqtt://127.0.0.1:1883", options);
    try {
      const received = new Promise<string>((resolve) => {
        subscriber.on("message", (_topic, payload) => resolve(payload.toString()));
      });
      await subscriber.subscribeAsync(topic, { qos: 1 });
      await publisher.publishAsync(topic, "21.5", { qos: 1 });
      const timeout = Bun.sleep(5000).then(() => "timeout");
      expect(await Promise.race([received, timeout])).toBe("21.5");
    } finally {
      await Promise.all([subscriber.endAsync(), publisher.endAsync()]);
    }
  });
});
