import { z } from "zod";
import {
  IndicatorSnapshot,
  MarketAnomaly,
  MarketBar,
  MarketQuote,
  MarketTrade,
  TIMEFRAMES,
} from "./market.ts";
import { subjectOf } from "./platform-schemas.ts";
import { Topics } from "./topics.ts";

/**
 * The value schemas of the market topics, as JSON Schema under Confluent's TopicNameStrategy
 * subjects (`<topic>-value`), registered by the node like the sensor schemas; the market topics
 * are written in the Confluent wire format with their schema id.
 */
export function marketSchemas(): Record<string, Record<string, unknown>> {
  const json = (schema: z.ZodType) =>
    z.toJSONSchema(schema, { unrepresentable: "any" }) as Record<string, unknown>;
  const schemas: Record<string, Record<string, unknown>> = {
    [subjectOf(Topics.marketTradesRaw)]: json(MarketTrade),
    [subjectOf(Topics.marketQuotesRaw)]: json(MarketQuote),
    [subjectOf(Topics.marketBarsRaw)]: json(MarketBar),
    [subjectOf(Topics.marketIndicators)]: json(IndicatorSnapshot),
    [subjectOf(Topics.marketAnomalies)]: json(MarketAnomaly),
  };
  for (const tf of TIMEFRAMES) schemas[subjectOf(Topics.marketBars(tf))] = json(MarketBar);
  return schemas;
}

/** every market topic whose records carry a schema id */
export function marketTopics(): string[] {
  return [
    Topics.marketTradesRaw,
    Topics.marketQuotesRaw,
    Topics.marketBarsRaw,
    Topics.marketIndicators,
    Topics.marketAnomalies,
    ...TIMEFRAMES.map((tf) => Topics.marketBars(tf)),
  ];
}
