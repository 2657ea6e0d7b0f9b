import { z } from "zod";
import { binTrainingSet, MAX_BINS } from "./binning.ts";
import { parseParams } from "./config-parse.ts";
import { SeededRandom } from "./random.ts";
import { packTrainingSet, type TrainingSet } from "./training-set.ts";
import { NodeList, TreeBuilder } from "./tree-builder.ts";
import { TreeEnsemble } from "./tree-ensemble.ts";

export const randomForestParamsSchema = z.object({
  nTrees: z.number().int().min(1).max(10_000).default(100),
  maxDepth: z.number().int().min(1).max(30).default(10),
  minSamplesLeaf: z.number().int().min(1).default(2),
  /** Fraction of features tried at each node; 1 = all, scikit-learn's regressor default. */
  featureFraction: z.number().gt(0).max(1).default(1),
  /** Each tree sees a bootstrap sample (n draws with replacement) when true, all rows when false. */
  bootstrap: z.boolean().default(true),
  maxBins: z.number().int().min(2).max(MAX_BINS).default(255),
  seed: z.number().int().default(42),
});
export type RandomForestParams = z.input<typeof randomForestParamsSchema>;

/**
 * A random forest of regression trees (Breiman 2001): each tree is grown on a bootstrap sample,
 * trying a random subset of features at each node, splitting on variance reduction; the forest
 * predicts the mean of its trees. Leaves store value / nTrees so that the model's prediction is a
 * plain sum, the same scoring path as gradient boosting.
 */
export function trainRandomForest(
  set: TrainingSet,
  params: RandomForestParams = {},
  trainedAt: Date = new Date(),
): TreeEnsemble {
  const p = parseParams(randomForestParamsSchema, params, "random forest parameters");
  const data = packTrainingSet(set);
  const binned = binTrainingSet(data, p.maxBins);
  const random = new SeededRandom(p.seed);
  const builder = new TreeBuilder(
    binned,
    {
      maxDepth: p.maxDepth,
      minSamplesLeaf: p.minSamplesLeaf,
      l2: 0,
      minGain: 0,
      featureFraction: p.featureFraction,
      leafScale: 1 / p.nTrees,
    },
    random,
  );
  const { rowCount } = data;
  const rows = new Uint32Array(rowCount);
  const nodes = new NodeList();
  const treeRoots: number[] = [];
  for (let t = 0; t < p.nTrees; t++) {
    for (let i = 0; i < rowCount; i++) rows[i] = p.bootstrap ? random.nextInt(rowCount) : i;
    treeRoots.push(builder.grow(data.labels, rows, rowCount, nodes));
  }
  return TreeEnsemble.fromParts({
    kind: "random-forest",
    featureNames: data.featureNames,
    params: p,
    baseScore: 0,
    treeRoots,
    nodes,
    importance: builder.importance,
    trainedAt,
  });
}
