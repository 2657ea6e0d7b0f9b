import { afterEach, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { openLog } from "../../../log/index.ts";
import { isPlatformError } from "../../../messages/errors.ts";
import { marketTopics } from "../../../messages/market-schemas.ts";
import { subjectOf } from "../../../messages/platform-schemas.ts";
import { schemaIdOf } from "../../../messages/schema-registry/wire-format.ts";
import { Topics } from "../../../messages/topics.ts";
import { SchemaRegistry } from "../../../registries/schema-registry.ts";
import { provisionMarket } from "../../../sources/market/market-provisioning.ts";

let cleanup: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const step of cleanup.reverse()) await step();
  cleanup = [];
});

async function provisioned() {
  const dir = mkdtempSync(join(tmpdir(), "market-provisioning-"));
  cleanup.push(() => rmSync(dir, { recursive: true, force: true }));
  const log = await openLog({ kind: "embedded", path: join(dir, "log.db") });
  cleanup.push(() => log.close());
  const registry = await SchemaRegistry.open(log);
  return { log, registry, codec: await provisionMarket(log, registry, 3) };
}

const TRADE = {
  symbol: "AAPL",
  price: 189.5,
  size: 100,
  timestamp: Date.parse("2024-03-04T15:00:00Z"),
  exchange: "V",
  source: "simulator",
};

test("provisioning creates every market topic and the raw topics' dead letters", async () => {
  const { log } = await provisioned();
  const raw = [Topics.marketTradesRaw, Topics.marketQuotesRaw, Topics.marketBarsRaw];
  for (const topic of [...marketTopics(), ...raw.map((t) => Topics.deadLettersOf(t))])
    expect({ topic, partitions: await log.partitions(topic) }).toEqual({ topic, partitions: 3 });
});

test("a validated value is framed with its topic's registered schema id and decodes back", async () => {
  const { registry, codec } = await provisioned();
  const framed = codec.frameValidated(Topics.marketTradesRaw, TRADE);
  expect(schemaIdOf(framed)).toBe(registry.version(subjectOf(Topics.marketTradesRaw), "latest").id);
  expect(codec.decode(framed)).toEqual(TRADE);
});

test("framing for a topic without a market schema is refused with UNKNOWN_TOPIC", async () => {
  const { codec } = await provisioned();
  let caught: unknown;
  try {
    codec.frameValidated("city.sensors.raw", TRADE);
  } catch (error) {
    caught = error;
  }
  expect(isPlatformError(caught, "UNKNOWN_TOPIC")).toBe(true);
});

test("provisioning a second time registers nothing new: the same ids frame the values", async () => {
  const { log, registry, codec } = await provisioned();
  const again = await provisionMarket(log, registry, 3);
  expect(again.frameValidated(Topics.marketTradesRaw, TRADE)).toEqual(
    codec.frameValidated(Topics.marketTradesRaw, TRADE),
  );
});
