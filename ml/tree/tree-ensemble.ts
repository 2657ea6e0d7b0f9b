import { z } from "zod";
import { ErrorCodes, PlatformError } from "../../messages/errors.ts";
import { outputLink } from "./boosting-loss.ts";
import { contentHash } from "./content-hash.ts";
import type { NodeList } from "./tree-builder.ts";

export type TreeEnsembleKind = "gradient-boosting" | "random-forest";

export interface FeatureImportance {
  readonly feature: string;
  /** Total split gain on this feature over all trees. */
  readonly gain: number;
  /** gain / sum of gains, so shares sum to 1 (all 0 when no split was made). */
  readonly share: number;
}

/**
 * The serialised model, format "tree-ensemble/v1". All trees' nodes live in flat arrays; a
 * node is a leaf when feature[n] = -1. Internal node n sends a row left when
 * row[feature[n]] <= threshold[n], right when greater, and NaN to the side missingLeft[n] names.
 * prediction = baseScore + sum over trees of value[leaf reached], through the sigmoid for a
 * log-loss classifier (params.loss, see boosting-loss.ts): then it is P(label = 1). `version` is
 * "<gbt|rf>-<content hash>-<trainedAt compact>", the hash covering every field but the version.
 */
const serialisedSchema = z.object({
  format: z.literal("tree-ensemble/v1"),
  version: z.string(),
  kind: z.enum(["gradient-boosting", "random-forest"]),
  trainedAt: z.string(),
  featureNames: z.array(z.string()).min(1),
  params: z.record(z.string(), z.unknown()),
  baseScore: z.number(),
  treeRoots: z.array(z.number().int()),
  feature: z.array(z.number().int()),
  threshold: z.array(z.number()),
  left: z.array(z.number().int()),
  right: z.array(z.number().int()),
  value: z.array(z.number()),
  missingLeft: z.array(z.number().int()),
  importance: z.array(z.number()),
});
export type SerialisedTreeEnsemble = z.infer<typeof serialisedSchema>;

export interface TreeEnsembleParts {
  readonly kind: TreeEnsembleKind;
  readonly featureNames: readonly string[];
  readonly params: Readonly<Record<string, unknown>>;
  readonly baseScore: number;
  readonly treeRoots: readonly number[];
  readonly nodes: NodeList;
  readonly importance: Float64Array;
  readonly trainedAt: Date;
}

export class TreeEnsemble {
  readonly kind: TreeEnsembleKind;
  readonly featureNames: readonly string[];
  readonly featureCount: number;
  readonly trainedAt: string;
  readonly params: Readonly<Record<string, unknown>>;
  readonly version: string;
  private readonly baseScore: number;
  private readonly treeRoots: Int32Array;
  private readonly feature: Int32Array;
  private readonly threshold: Float64Array;
  private readonly left: Int32Array;
  private readonly right: Int32Array;
  private readonly value: Float64Array;
  private readonly missingLeft: Uint8Array;
  private readonly importance: Float64Array;
  /** raw score -> output: P(1) for a log-loss classifier, none for a regressor */
  private readonly link: ((raw: number) => number) | undefined;

  private constructor(content: Omit<SerialisedTreeEnsemble, "version" | "format">, version: string) {
    this.kind = content.kind;
    this.featureNames = content.featureNames;
    this.featureCount = content.featureNames.length;
    this.trainedAt = content.trainedAt;
    this.params = content.params;
    this.baseScore = content.baseScore;
    this.treeRoots = Int32Array.from(content.treeRoots);
    this.feature = Int32Array.from(content.feature);
    this.threshold = Float64Array.from(content.threshold);
    this.left = Int32Array.from(content.left);
    this.right = Int32Array.from(content.right);
    this.value = Float64Array.from(content.value);
    this.missingLeft = Uint8Array.from(content.missingLeft);
    this.importance = Float64Array.from(content.importance);
    this.link = outputLink(content.params);
    this.version = version;
  }

  static fromParts(parts: TreeEnsembleParts): TreeEnsemble {
    const content = {
      kind: parts.kind,
      trainedAt: parts.trainedAt.toISOString(),
      featureNames: [...parts.featureNames],
      params: { ...parts.params },
      baseScore: parts.baseScore,
      treeRoots: [...parts.treeRoots],
      feature: parts.nodes.feature,
      threshold: parts.nodes.threshold,
      left: parts.nodes.left,
      right: parts.nodes.right,
      value: parts.nodes.value,
      missingLeft: parts.nodes.missingLeft,
      importance: Array.from(parts.importance),
    };
    return new TreeEnsemble(content, versionOf(content));
  }

  /** Parses and checks a serialised model; a corrupted or edited one is a DECODE_FAILED error. */
  static fromJSON(json: unknown): TreeEnsemble {
    const parsed = serialisedSchema.safeParse(typeof json === "string" ? safeJsonParse(json) : json);
    if (!parsed.success) {
      throw new PlatformError(ErrorCodes.DECODE_FAILED, "not a tree-ensemble/v1 model", {
        cause: parsed.error,
      });
    }
    const { format: _format, version, ...content } = parsed.data;
    const expected = versionOf(content);
    if (expected !== version) {
      throw new PlatformError(ErrorCodes.DECODE_FAILED, "model content does not match its version hash", {
        details: { version, expected },
      });
    }
    checkStructure(content);
    return new TreeEnsemble(content, version);
  }

  get treeCount(): number {
    return this.treeRoots.length;
  }

  get nodeCount(): number {
    return this.feature.length;
  }

  /** Scores one row; allocation-free. A row of the wrong length is a FEATURE_MISSING error. */
  predict(row: ArrayLike<number>): number {
    if (row.length !== this.featureCount) {
      throw new PlatformError(
        ErrorCodes.FEATURE_MISSING,
        `row has ${row.length} features, the model expects ${this.featureCount} (${this.featureNames.join(", ")})`,
      );
    }
    return this.score(row, 0);
  }

  /**
   * Scores many rows into `out` (allocated when absent). `rows` is either an array of rows or one
   * row-major Float64Array of rowCount x featureCount values.
   */
  predictBatch(rows: ReadonlyArray<ArrayLike<number>> | Float64Array, out?: Float64Array): Float64Array {
    if (rows instanceof Float64Array) {
      if (rows.length % this.featureCount !== 0) {
        throw new PlatformError(
          ErrorCodes.FEATURE_MISSING,
          `a flat batch of ${rows.length} values is not a multiple of ${this.featureCount} features`,
        );
      }
      const count = rows.length / this.featureCount;
      const result = out ?? new Float64Array(count);
      for (let i = 0; i < count; i++) result[i] = this.score(rows, i * this.featureCount);
      return result;
    }
    const result = out ?? new Float64Array(rows.length);
    for (let i = 0; i < rows.length; i++) result[i] = this.predict(rows[i]!);
    return result;
  }

  featureImportance(): FeatureImportance[] {
    let total = 0;
    for (const gain of this.importance) total += gain;
    return this.featureNames
      .map((feature, j) => ({
        feature,
        gain: this.importance[j]!,
        share: total > 0 ? this.importance[j]! / total : 0,
      }))
      .sort((a, b) => b.gain - a.gain);
  }

  toJSON(): SerialisedTreeEnsemble {
    return {
      format: "tree-ensemble/v1",
      version: this.version,
      ...this.content(),
    };
  }

  private content(): Omit<SerialisedTreeEnsemble, "version" | "format"> {
    return {
      kind: this.kind,
      trainedAt: this.trainedAt,
      featureNames: [...this.featureNames],
      params: { ...this.params },
      baseScore: this.baseScore,
      treeRoots: Array.from(this.treeRoots),
      feature: Array.from(this.feature),
      threshold: Array.from(this.threshold),
      left: Array.from(this.left),
      right: Array.from(this.right),
      value: Array.from(this.value),
      missingLeft: Array.from(this.missingLeft),
      importance: Array.from(this.importance),
    };
  }

  private score(row: ArrayLike<number>, offset: number): number {
    const { feature, threshold, left, right, value, missingLeft, treeRoots } = this;
    let sum = this.baseScore;
    for (let t = 0; t < treeRoots.length; t++) {
      let node = treeRoots[t]!;
      let f = feature[node]!;
      while (f >= 0) {
        const x = row[offset + f]!;
        if (x <= threshold[node]!) node = left[node]!;
        else if (x > threshold[node]!) node = right[node]!;
        else node = missingLeft[node] === 1 ? left[node]! : right[node]!;
        f = feature[node]!;
      }
      sum += value[node]!;
    }
    return this.link ? this.link(sum) : sum;
  }
}

function versionOf(content: Omit<SerialisedTreeEnsemble, "version" | "format">): string {
  const prefix = content.kind === "gradient-boosting" ? "gbt" : "rf";
  const stamp = content.trainedAt.replace(/[-:]/g, "").replace(/\.\d+Z$/, "Z");
  return `${prefix}-${contentHash(JSON.stringify(content))}-${stamp}`;
}

function checkStructure(content: Omit<SerialisedTreeEnsemble, "version" | "format">): void {
  const n = content.feature.length;
  const sameLength = [content.threshold, content.left, content.right, content.value, content.missingLeft];
  const broken =
    sameLength.some((array) => array.length !== n) ||
    content.importance.length !== content.featureNames.length ||
    content.treeRoots.some((root) => root < 0 || root >= n) ||
    content.feature.some(
      (f, i) =>
        f >= content.featureNames.length ||
        (f >= 0 &&
          !(content.left[i]! > i && content.left[i]! < n && content.right[i]! > i && content.right[i]! < n)),
    );
  if (broken) throw new PlatformError(ErrorCodes.DECODE_FAILED, "model arrays are inconsistent");
}

function safeJsonParse(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch (cause) {
    throw new PlatformError(ErrorCodes.MALFORMED_JSON, "model JSON does not parse", { cause });
  }
}
