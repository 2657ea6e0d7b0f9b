import { ErrorCodes, PlatformError } from "../../messages/errors.ts";

/**
 * The checks both adapters make before anything is written, with MLflow's own limits (its
 * `mlflow/utils/validation.py`): key names of letters, digits and `_-./ :`, up to 250 characters;
 * parameter values up to 6000 characters, tag values up to 8000; finite metric values (MLflow
 * stores NaN but its UI cannot plot it, and a NaN loss is a bug to report, not to chart).
 * Artifact paths are relative, without `..`, so no caller reaches outside the run's folder.
 */
const KEY = /^[\w\-./ :]{1,250}$/;
export const MAX_PARAM_VALUE = 6000;
export const MAX_TAG_VALUE = 8000;
export const MAX_BATCH = 1000;

export function checkKey(kind: string, key: string): void {
  if (!KEY.test(key) || key.includes(".."))
    invalid(`${kind} key ${JSON.stringify(key.slice(0, 60))} is not a valid name`);
}

export function checkParam(key: string, value: string): void {
  checkKey("parameter", key);
  if (value.length > MAX_PARAM_VALUE)
    invalid(`parameter ${key} is longer than ${MAX_PARAM_VALUE} characters`);
}

export function checkTag(key: string, value: string): void {
  checkKey("tag", key);
  if (value.length > MAX_TAG_VALUE) invalid(`tag ${key} is longer than ${MAX_TAG_VALUE} characters`);
}

export function checkMetric(key: string, value: number, step: number, timestamp: number): void {
  checkKey("metric", key);
  if (!Number.isFinite(value)) invalid(`metric ${key} is not a finite number`);
  if (!Number.isSafeInteger(step) || step < 0)
    invalid(`metric ${key} has step ${step}: a whole number >= 0 is needed`);
  if (!Number.isSafeInteger(timestamp) || timestamp < 0) invalid(`metric ${key} has an invalid timestamp`);
}

export function checkBatch(kind: string, size: number): void {
  if (size > MAX_BATCH) invalid(`${size} ${kind} in one call; at most ${MAX_BATCH}`);
}

export function checkArtifactPath(path: string): void {
  const parts = path.split("/");
  if (
    path.length === 0 ||
    path.length > 500 ||
    path.startsWith("/") ||
    parts.some((part) => part === "" || part === "." || part === "..") ||
    !/^[\w\-./ ]+$/.test(path)
  ) {
    invalid(
      `artifact path ${JSON.stringify(path.slice(0, 60))} must be relative, without '..' or empty parts`,
    );
  }
}

export function checkName(kind: string, name: string): void {
  if (name.trim().length === 0 || name.length > 250) invalid(`${kind} name must be 1 to 250 characters`);
}

export function invalid(message: string): never {
  throw new PlatformError(ErrorCodes.TRACKING_INVALID, message);
}

export function notFound(message: string): never {
  throw new PlatformError(ErrorCodes.TRACKING_NOT_FOUND, message);
}

export function paramText(value: string | number | boolean): string {
  return typeof value === "string" ? value : String(value);
}
