import { ErrorCodes, PlatformError } from "../../messages/errors.ts";

/**
 * The predict API's input, checked before anything is scored: one row or a batch, each row
 * either an array of the model's features in order or an object naming each of them, every value
 * a finite number or null (missing: JSON has no NaN, and the trees learned a side for missing
 * values, as scikit-learn's HistGradientBoosting does), with an optional entity key (routing: canary share, A/B arm) and time (the
 * label joins on (key, time)). Every refusal names the row and the feature.
 */
export const MAX_BATCH_ROWS = 10_000;
const MAX_KEY_LENGTH = 200;

export interface PredictRows {
  readonly matrix: Float64Array;
  readonly rows: number;
  readonly keys: (string | undefined)[];
  readonly times: (number | undefined)[];
}

export function parsePredictRequest(body: unknown, featureNames: readonly string[]): PredictRows {
  if (typeof body !== "object" || body === null || Array.isArray(body))
    bad("the body must be a JSON object with `row` or `rows`");
  const input = body as Record<string, unknown>;
  if ((input.row === undefined) === (input.rows === undefined))
    bad("send exactly one of `row` (one row) or `rows` (a batch)");
  const items = input.row !== undefined ? [input.row] : input.rows;
  if (!Array.isArray(items)) bad("`rows` must be an array");
  if (items.length === 0) bad("`rows` is empty");
  if (items.length > MAX_BATCH_ROWS) bad(`${items.length} rows in one request; at most ${MAX_BATCH_ROWS}`);
  const width = featureNames.length;
  const matrix = new Float64Array(items.length * width);
  const keys: (string | undefined)[] = [];
  const times: (number | undefined)[] = [];
  items.forEach((item, i) => {
    let features: unknown = item;
    let key: unknown;
    let at: unknown;
    if (typeof item === "object" && item !== null && !Array.isArray(item) && "features" in item) {
      ({ features, key, at } = item as { features: unknown; key?: unknown; at?: unknown });
    }
    if (key !== undefined && (typeof key !== "string" || key.length === 0 || key.length > MAX_KEY_LENGTH)) {
      bad(`row ${i}: key must be a string of 1-${MAX_KEY_LENGTH} characters`);
    }
    if (at !== undefined && (typeof at !== "number" || !Number.isSafeInteger(at) || at < 0)) {
      bad(`row ${i}: at must be a time in epoch milliseconds`);
    }
    keys.push(key as string | undefined);
    times.push(at as number | undefined);
    if (Array.isArray(features)) {
      if (features.length !== width) {
        throw new PlatformError(
          ErrorCodes.FEATURE_MISSING,
          `row ${i} has ${features.length} values; the model takes ${width}: ${featureNames.join(", ")}`,
        );
      }
      for (let j = 0; j < width; j++) matrix[i * width + j] = finite(features[j], i, featureNames[j]!);
      return;
    }
    if (typeof features !== "object" || features === null)
      bad(`row ${i} must be an array of ${width} numbers or an object of named features`);
    const named = features as Record<string, unknown>;
    for (let j = 0; j < width; j++) {
      const name = featureNames[j]!;
      if (!(name in named))
        throw new PlatformError(ErrorCodes.FEATURE_MISSING, `row ${i} lacks feature ${name}`);
      matrix[i * width + j] = finite(named[name], i, name);
    }
    const unknown = Object.keys(named).find((name) => !featureNames.includes(name));
    if (unknown !== undefined)
      bad(`row ${i} has feature ${JSON.stringify(unknown.slice(0, 60))}, which the model does not take`);
  });
  return { matrix, rows: items.length, keys, times };
}

function finite(value: unknown, row: number, feature: string): number {
  if (value === null || (typeof value === "number" && Number.isNaN(value))) return Number.NaN;
  if (typeof value !== "number" || !Number.isFinite(value))
    bad(`row ${row} feature ${feature} must be a finite number or null (missing)`);
  return value;
}

function bad(message: string): never {
  throw new PlatformError(ErrorCodes.BAD_REQUEST, message);
}
