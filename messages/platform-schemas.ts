import { z } from "zod";
import { DeadLetter } from "./dead-letter.ts";
import { DriftReport } from "./drift-report.ts";
import { LocationSentiment, NewsArticle, NewsInsight, SymbolSentiment } from "./news.ts";
import { ModelOutcome, Prediction } from "./prediction.ts";
import { ProcessedReading } from "./processed-reading.ts";
import { SENSOR_TYPES, sensorReadingJsonSchema } from "./sensor-reading.ts";
import { Topics } from "./topics.ts";
import { WindowResult } from "./window-result.ts";

/**
 * The value schema of every topic the platform writes, as JSON Schema, under Confluent's
 * TopicNameStrategy subject `<topic>-value`. The node registers them at start; producers frame
 * records with their schema id (magic 0 + id + JSON), consumers resolve the id and validate.
 */
export const subjectOf = (topic: string) => `${topic}-value`;

export function platformSchemas(): Record<string, Record<string, unknown>> {
  const json = (schema: z.ZodType) => z.toJSONSchema(schema) as Record<string, unknown>;
  const schemas: Record<string, Record<string, unknown>> = {
    [subjectOf(Topics.sensorsRaw)]: sensorReadingJsonSchema(),
    [subjectOf(Topics.predictions)]: json(Prediction),
    [subjectOf(Topics.outcomes)]: json(ModelOutcome),
    [subjectOf(Topics.silver)]: json(ProcessedReading),
    [subjectOf(Topics.quarantine)]: json(ProcessedReading),
    [subjectOf(Topics.drift)]: json(DriftReport),
    [subjectOf(Topics.deadLetters)]: json(DeadLetter),
    [subjectOf(Topics.newsArticlesRaw)]: json(NewsArticle),
    [subjectOf(Topics.newsInsights)]: json(NewsInsight),
    [subjectOf(Topics.newsSentiment)]: json(LocationSentiment),
    [subjectOf(Topics.newsSymbolSentiment)]: json(SymbolSentiment),
  };
  for (const type of SENSOR_TYPES) schemas[subjectOf(Topics.processed(type))] = json(WindowResult);
  return schemas;
}
