import type { Log } from "../../log/log.ts";
import { type RecordCodec, registryCodec } from "../../messages/codec/record-codec.ts";
import { ErrorCodes, PlatformError } from "../../messages/errors.ts";
import { marketSchemas, marketTopics } from "../../messages/market-schemas.ts";
import { subjectOf } from "../../messages/platform-schemas.ts";
import { SchemaSerde } from "../../messages/schema-registry/schema-serde.ts";
import { frame } from "../../messages/schema-registry/wire-format.ts";
import { Topics } from "../../messages/topics.ts";
import type { SchemaRegistry } from "../../registries/schema-registry.ts";

/**
 * The market records' codec, plus `frameValidated`: the Confluent framing of a value that its
 * zod schema has just accepted (ingest, the actors' outputs). The JSON Schemas are generated from
 * the same zod schemas, so validating twice would only halve the ingest's rate (measured: the
 * serde's validation was about half of the ingest's cost per trade).
 */
export interface MarketCodec extends RecordCodec {
  frameValidated(topic: string, value: unknown): Uint8Array;
}

/** the market topics (and their dead letters) exist, their schemas are registered; their codec */
export async function provisionMarket(
  log: Log,
  registry: SchemaRegistry,
  partitions: number,
): Promise<MarketCodec> {
  const raw = [Topics.marketTradesRaw, Topics.marketQuotesRaw, Topics.marketBarsRaw];
  for (const topic of [...marketTopics(), ...raw.map((t) => Topics.deadLettersOf(t))])
    await log.createTopic({ name: topic, partitions });
  const schemas = marketSchemas();
  const ids = new Map<string, number>();
  for (const [subject, schema] of Object.entries(schemas)) {
    const registered = await registry.register(subject, JSON.stringify(schema), { schemaType: "JSON" });
    ids.set(subject, registered.id);
  }
  const codec = registryCodec(new SchemaSerde(registry, { schemas }), new Set(marketTopics()), () =>
    registry.catchUp(),
  );
  const encoder = new TextEncoder();
  return {
    ...codec,
    frameValidated(topic, value) {
      const id = ids.get(subjectOf(topic));
      if (id === undefined)
        throw new PlatformError(ErrorCodes.UNKNOWN_TOPIC, `no market schema for ${topic}`);
      return frame(id, encoder.encode(JSON.stringify(value)));
    },
  };
}
