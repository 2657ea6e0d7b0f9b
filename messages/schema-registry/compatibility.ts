import { ErrorCodes, PlatformError } from "../errors.ts";
import type { JsonSchemaNode } from "./json-pointer.ts";
import { jsonSchemaDifferences } from "./json-schema-difference.ts";

/**
 * Compatibility levels as Confluent Schema Registry defines them: BACKWARD means a consumer using
 * the new schema can read data written with the previous one (upgrade consumers first); FORWARD
 * means consumers still on the previous schema can read data written with the new one (upgrade
 * producers first); FULL is both. The _TRANSITIVE forms check against every live version instead
 * of only the latest.
 */
export const COMPATIBILITY_LEVELS = [
  "NONE",
  "BACKWARD",
  "BACKWARD_TRANSITIVE",
  "FORWARD",
  "FORWARD_TRANSITIVE",
  "FULL",
  "FULL_TRANSITIVE",
] as const;
export type CompatibilityLevel = (typeof COMPATIBILITY_LEVELS)[number];

export const DEFAULT_COMPATIBILITY: CompatibilityLevel = "BACKWARD";

export function parseCompatibilityLevel(value: unknown): CompatibilityLevel {
  const upper = typeof value === "string" ? value.toUpperCase() : value;
  if (!COMPATIBILITY_LEVELS.includes(upper as CompatibilityLevel)) {
    throw new PlatformError(
      ErrorCodes.CONFIG_INVALID,
      `invalid compatibility level ${JSON.stringify(value)}`,
      {
        details: { registryErrorCode: 42203, allowed: COMPATIBILITY_LEVELS },
      },
    );
  }
  return upper as CompatibilityLevel;
}

export function isTransitive(level: CompatibilityLevel): boolean {
  return level.endsWith("_TRANSITIVE");
}

/** an earlier version the candidate is checked against */
export interface PriorSchema {
  readonly version: number;
  readonly schema: JsonSchemaNode;
}

/**
 * Check a candidate schema against prior versions (oldest first); returns one message per broken
 * rule, empty when compatible. Messages name the mode, the change, where it is, who cannot read
 * what, and Confluent's difference type, e.g.
 * `BACKWARD: property 'avg_speed' became required at #/properties/avg_speed; a reader using the
 * new schema cannot read data written with version 2 (REQUIRED_ATTRIBUTE_ADDED)`.
 */
export function compatibilityMessages(
  level: CompatibilityLevel,
  candidate: JsonSchemaNode,
  priors: readonly PriorSchema[],
): string[] {
  if (level === "NONE" || priors.length === 0) return [];
  const against = isTransitive(level) ? priors : priors.slice(-1);
  const backward = level.startsWith("BACKWARD") || level.startsWith("FULL");
  const forward = level.startsWith("FORWARD") || level.startsWith("FULL");
  const messages: string[] = [];
  for (const prior of [...against].reverse()) {
    if (backward) {
      for (const d of jsonSchemaDifferences(prior.schema, candidate)) {
        messages.push(
          `BACKWARD: ${d.describe("writer-to-reader")} at ${d.pointer}; a reader using the new schema cannot read data written with version ${prior.version} (${d.type})`,
        );
      }
    }
    if (forward) {
      for (const d of jsonSchemaDifferences(candidate, prior.schema)) {
        messages.push(
          `FORWARD: ${d.describe("reader-to-writer")} at ${d.pointer}; a reader using version ${prior.version} cannot read data written with the new schema (${d.type})`,
        );
      }
    }
  }
  return messages;
}
