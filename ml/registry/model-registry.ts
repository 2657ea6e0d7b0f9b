import { ErrorCodes, PlatformError } from "../../messages/errors.ts";

/**
 * The model registry: the port. MLflow's Model Registry model (registered models; versions
 * numbered from 1, each pointing at the run and artifact it came from; aliases such as
 * `champion` and `challenger` that name one version each; tags), plus what MLflow lacks: every
 * alias change is a transition recorded with who made it and why, kept in order. The embedded
 * adapter keeps transitions in a table; the MLflow adapter keeps them as tags of the registered
 * model (`platform.transition.<seq>`), so they show in the MLflow UI too.
 */
export interface RegisteredModel {
  readonly name: string;
  readonly description: string;
  readonly tags: Readonly<Record<string, string>>;
  /** alias -> version */
  readonly aliases: Readonly<Record<string, string>>;
}

export interface ModelVersion {
  readonly name: string;
  /** "1", "2", ... as MLflow numbers them */
  readonly version: string;
  readonly runId: string;
  /** where the model file is: `runs:/<run>/<path>` */
  readonly source: string;
  readonly tags: Readonly<Record<string, string>>;
  readonly createdAt: number;
}

export interface Transition {
  readonly seq: number;
  readonly alias: string;
  /** undefined when the alias was new */
  readonly from: string | undefined;
  /** undefined when the alias was removed */
  readonly to: string | undefined;
  readonly by: string;
  readonly reason: string;
  readonly at: number;
}

export interface TransitionCause {
  readonly by: string;
  readonly reason: string;
}

export interface ModelRegistry {
  /** MODEL_REGISTRY_CONFLICT when the name is taken */
  createModel(
    name: string,
    options?: { description?: string; tags?: Record<string, string> },
  ): Promise<RegisteredModel>;
  /** MODEL_NOT_FOUND when absent */
  getModel(name: string): Promise<RegisteredModel>;
  listModels(): Promise<RegisteredModel[]>;
  createVersion(
    name: string,
    version: { runId: string; source: string; tags?: Record<string, string> },
  ): Promise<ModelVersion>;
  getVersion(name: string, version: string): Promise<ModelVersion>;
  /** oldest first */
  listVersions(name: string): Promise<ModelVersion[]>;
  setVersionTag(name: string, version: string, key: string, value: string): Promise<void>;
  /** a tag of the registered model (the serving policy is kept in one) */
  setModelTag(name: string, key: string, value: string): Promise<void>;
  /**
   * Points the alias at the version and records the transition. With `expected`, the alias must
   * still point where the caller saw it (undefined: nowhere), or MODEL_REGISTRY_CONFLICT: two
   * promoters racing cannot both win.
   */
  setAlias(
    name: string,
    alias: string,
    version: string,
    cause: TransitionCause & { readonly expected?: string | null },
  ): Promise<Transition>;
  deleteAlias(name: string, alias: string, cause: TransitionCause): Promise<Transition>;
  /** undefined when the alias names no version */
  versionByAlias(name: string, alias: string): Promise<ModelVersion | undefined>;
  /** oldest first */
  transitions(name: string): Promise<Transition[]>;
  close(): Promise<void>;
}

export const CHAMPION = "champion";
export const CHALLENGER = "challenger";

const NAME = /^[\w\-.]{1,200}$/;
const ALIAS = /^[a-z][a-z0-9_-]{0,63}$/;

export function checkModelName(name: string): void {
  if (!NAME.test(name))
    registryInvalid(
      `model name ${JSON.stringify(name.slice(0, 60))} must be letters, digits, '_', '-' or '.'`,
    );
}

export function checkAlias(alias: string): void {
  // MLflow refuses aliases that look like version numbers (`v1`, `1`) and `latest`
  if (!ALIAS.test(alias) || /^v\d+$/.test(alias) || alias === "latest") {
    registryInvalid(
      `alias ${JSON.stringify(alias.slice(0, 60))} must be lower-case letters, digits, '_' or '-', not latest or v<n>`,
    );
  }
}

export function checkCause(cause: TransitionCause): void {
  if (cause.by.trim().length === 0 || cause.by.length > 200)
    registryInvalid("a transition needs who made it (1-200 characters)");
  if (cause.reason.trim().length === 0 || cause.reason.length > 1000)
    registryInvalid("a transition needs a reason (1-1000 characters)");
}

export function registryInvalid(message: string): never {
  throw new PlatformError(ErrorCodes.TRACKING_INVALID, message);
}

export function modelNotFound(message: string): never {
  throw new PlatformError(ErrorCodes.MODEL_NOT_FOUND, message);
}

export function registryConflict(message: string, details: Record<string, unknown> = {}): never {
  throw new PlatformError(ErrorCodes.MODEL_REGISTRY_CONFLICT, message, { details });
}

export function checkExpected(
  alias: string,
  current: string | undefined,
  expected: string | null | undefined,
): void {
  if (expected === undefined) return;
  if ((expected ?? undefined) !== current) {
    registryConflict(`alias ${alias} points at ${current ?? "nothing"}, not ${expected ?? "nothing"}`, {
      alias,
      current: current ?? null,
    });
  }
}
