import { ErrorCodes } from "../../../messages/errors.ts";
import {
  MlflowClient,
  type MlflowClientOptions,
  tagList,
  tagMap,
} from "../../tracking/mlflow/mlflow-client.ts";
import { checkTag } from "../../tracking/tracking-limits.ts";
import {
  checkAlias,
  checkCause,
  checkExpected,
  checkModelName,
  type ModelRegistry,
  type ModelVersion,
  modelNotFound,
  type RegisteredModel,
  type Transition,
  type TransitionCause,
} from "../model-registry.ts";

/**
 * The registry port on MLflow's Model Registry REST API (registered models, versions, aliases,
 * tags). MLflow keeps no history of alias changes, so each transition is also written as a tag of
 * the registered model, `platform.transition.<seq>` = JSON {alias, from, to, by, reason, at}: the
 * MLflow UI shows them on the model's page. MLflow has no conditional alias update, so `expected`
 * is checked by reading just before the write: it narrows a race between two promoters, it does
 * not close it as the embedded registry's transaction does (one retrain per model is in flight
 * at a time, which is what keeps promoters from racing).
 */
const CODES = { notFound: ErrorCodes.MODEL_NOT_FOUND, invalid: ErrorCodes.MODEL_REGISTRY_CONFLICT } as const;
const TRANSITION_TAG = "platform.transition.";

export class MlflowModelRegistry implements ModelRegistry {
  private readonly client: MlflowClient;

  constructor(options: MlflowClientOptions) {
    this.client = new MlflowClient(options);
  }

  async createModel(
    name: string,
    options: { description?: string; tags?: Record<string, string> } = {},
  ): Promise<RegisteredModel> {
    checkModelName(name);
    for (const [key, value] of Object.entries(options.tags ?? {})) checkTag(key, value);
    await this.client.call("POST", "registered-models/create", CODES, {
      body: { name, description: options.description ?? "", tags: tagList(options.tags ?? {}) },
    });
    return this.getModel(name);
  }

  async getModel(name: string): Promise<RegisteredModel> {
    checkModelName(name);
    const answer = await this.client.call<{ registered_model: WireModel }>(
      "GET",
      "registered-models/get",
      CODES,
      {
        query: { name },
      },
    );
    return toModel(answer.registered_model);
  }

  async listModels(): Promise<RegisteredModel[]> {
    const models: RegisteredModel[] = [];
    let pageToken: string | undefined;
    do {
      const answer = await this.client.call<{ registered_models?: WireModel[]; next_page_token?: string }>(
        "GET",
        "registered-models/search",
        CODES,
        { query: { max_results: "1000", ...(pageToken ? { page_token: pageToken } : {}) } },
      );
      for (const model of answer.registered_models ?? []) models.push(toModel(model));
      pageToken = answer.next_page_token || undefined;
    } while (pageToken);
    return models.sort((a, b) => a.name.localeCompare(b.name));
  }

  async createVersion(
    name: string,
    version: { runId: string; source: string; tags?: Record<string, string> },
  ): Promise<ModelVersion> {
    await this.getModel(name);
    for (const [key, value] of Object.entries(version.tags ?? {})) checkTag(key, value);
    const answer = await this.client.call<{ model_version: WireVersion }>(
      "POST",
      "model-versions/create",
      CODES,
      {
        body: { name, source: version.source, run_id: version.runId, tags: tagList(version.tags ?? {}) },
      },
    );
    return toVersion(answer.model_version);
  }

  async getVersion(name: string, version: string): Promise<ModelVersion> {
    checkModelName(name);
    if (!/^\d{1,9}$/.test(version))
      modelNotFound(`model ${name} has no version ${JSON.stringify(version.slice(0, 20))}`);
    const answer = await this.client.call<{ model_version: WireVersion }>(
      "GET",
      "model-versions/get",
      CODES,
      {
        query: { name, version },
      },
    );
    return toVersion(answer.model_version);
  }

  async listVersions(name: string): Promise<ModelVersion[]> {
    await this.getModel(name);
    const versions: ModelVersion[] = [];
    let pageToken: string | undefined;
    do {
      const answer = await this.client.call<{ model_versions?: WireVersion[]; next_page_token?: string }>(
        "GET",
        "model-versions/search",
        CODES,
        {
          query: {
            filter: `name='${name}'`,
            max_results: "10000",
            ...(pageToken ? { page_token: pageToken } : {}),
          },
        },
      );
      for (const v of answer.model_versions ?? []) versions.push(toVersion(v));
      pageToken = answer.next_page_token || undefined;
    } while (pageToken);
    return versions.sort((a, b) => Number(a.version) - Number(b.version));
  }

  async setVersionTag(name: string, version: string, key: string, value: string): Promise<void> {
    checkTag(key, value);
    await this.getVersion(name, version);
    await this.client.call("POST", "model-versions/set-tag", CODES, { body: { name, version, key, value } });
  }

  async setModelTag(name: string, key: string, value: string): Promise<void> {
    checkTag(key, value);
    await this.getModel(name);
    await this.client.call("POST", "registered-models/set-tag", CODES, { body: { name, key, value } });
  }

  async setAlias(
    name: string,
    alias: string,
    version: string,
    cause: TransitionCause & { readonly expected?: string | null },
  ): Promise<Transition> {
    checkAlias(alias);
    checkCause(cause);
    await this.getVersion(name, version);
    const model = await this.getModel(name);
    const current = model.aliases[alias];
    checkExpected(alias, current, cause.expected);
    await this.client.call("POST", "registered-models/alias", CODES, { body: { name, alias, version } });
    return this.record(name, alias, current, version, cause);
  }

  async deleteAlias(name: string, alias: string, cause: TransitionCause): Promise<Transition> {
    checkAlias(alias);
    checkCause(cause);
    const current = (await this.getModel(name)).aliases[alias];
    if (current === undefined) modelNotFound(`model ${name} has no alias ${alias}`);
    // MLflow reads a DELETE's parameters from its JSON body
    await this.client.call("DELETE", "registered-models/alias", CODES, { body: { name, alias } });
    return this.record(name, alias, current, undefined, cause);
  }

  async versionByAlias(name: string, alias: string): Promise<ModelVersion | undefined> {
    checkAlias(alias);
    const version = (await this.getModel(name)).aliases[alias];
    return version === undefined ? undefined : this.getVersion(name, version);
  }

  async transitions(name: string): Promise<Transition[]> {
    const model = await this.getModel(name);
    return transitionsOf(model.tags);
  }

  async close(): Promise<void> {}

  private async record(
    name: string,
    alias: string,
    from: string | undefined,
    to: string | undefined,
    cause: TransitionCause,
  ): Promise<Transition> {
    const model = await this.getModel(name);
    const seq = transitionsOf(model.tags).reduce((last, t) => Math.max(last, t.seq), 0) + 1;
    const transition: Transition = {
      seq,
      alias,
      from,
      to,
      by: cause.by,
      reason: cause.reason,
      at: Date.now(),
    };
    await this.client.call("POST", "registered-models/set-tag", CODES, {
      body: {
        name,
        key: `${TRANSITION_TAG}${String(seq).padStart(6, "0")}`,
        value: JSON.stringify(transition),
      },
    });
    return transition;
  }
}

interface WireModel {
  name: string;
  description?: string;
  tags?: { key: string; value: string }[];
  aliases?: { alias: string; version: string }[];
}

interface WireVersion {
  name: string;
  version: string;
  run_id?: string;
  source?: string;
  creation_timestamp?: number | string;
  tags?: { key: string; value: string }[];
}

function toModel(model: WireModel): RegisteredModel {
  return {
    name: model.name,
    description: model.description ?? "",
    tags: tagMap(model.tags),
    aliases: Object.fromEntries((model.aliases ?? []).map((a) => [a.alias, String(a.version)])),
  };
}

function toVersion(v: WireVersion): ModelVersion {
  return {
    name: v.name,
    version: String(v.version),
    runId: v.run_id ?? "",
    source: v.source ?? "",
    tags: tagMap(v.tags),
    createdAt: Number(v.creation_timestamp ?? 0),
  };
}

function transitionsOf(tags: Readonly<Record<string, string>>): Transition[] {
  const transitions: Transition[] = [];
  for (const [key, value] of Object.entries(tags)) {
    if (!key.startsWith(TRANSITION_TAG)) continue;
    const parsed = JSON.parse(value) as Transition & { from?: string | null; to?: string | null };
    transitions.push({ ...parsed, from: parsed.from ?? undefined, to: parsed.to ?? undefined });
  }
  return transitions.sort((a, b) => a.seq - b.seq);
}
