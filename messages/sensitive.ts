import { z } from "zod";

/**
 * Fields that name or reach a person (an installation's owner, its contact) are marked in their
 * schema, so what protects them (security/: encryption at rest, deletion requests) follows the
 * schema instead of a list kept elsewhere. The mark is a zod registry of its own, not JSON Schema
 * metadata: the registered schemas (and their compatibility) stay as they are.
 * Confluent's data contracts do the same with field tags (`PII`).
 */
export interface SensitiveMark {
  /** why it is sensitive, for the operator reading the schema */
  readonly reason: string;
}

export const Sensitive = z.registry<SensitiveMark>();

/** mark a field's schema sensitive; use it inside `.optional()` / `.nullable()` */
export function sensitive<T extends z.ZodType>(schema: T, reason: string): T {
  Sensitive.add(schema as z.ZodType, { reason });
  return schema;
}

/** the top-level fields of an object schema marked sensitive (through optional / nullable) */
export function sensitiveFieldsOf(schema: z.ZodObject): string[] {
  const fields: string[] = [];
  for (const [name, field] of Object.entries(schema.shape))
    if (isMarked(field as z.ZodType)) fields.push(name);
  return fields;
}

function isMarked(schema: z.ZodType): boolean {
  if (Sensitive.has(schema)) return true;
  if (schema instanceof z.ZodOptional || schema instanceof z.ZodNullable)
    return isMarked(schema.unwrap() as z.ZodType);
  return false;
}
