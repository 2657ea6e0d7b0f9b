import { type ErrorCode, ErrorCodes, PlatformError } from "../../../messages/errors.ts";

/**
 * A small client for MLflow's REST API (`/api/2.0/mlflow/...`, the API the MLflow UI and its
 * Python client use). MLflow answers errors as `{error_code, message}`; they become platform
 * errors: RESOURCE_DOES_NOT_EXIST -> the caller's not-found code, the invalid-value family ->
 * the caller's invalid code, 5xx and network failures -> TRACKING_UNAVAILABLE. The server's
 * message is cut short and the token (MLFLOW_TRACKING_TOKEN) is never part of an error.
 */
export interface MlflowClientOptions {
  readonly url: string;
  readonly token?: string;
  readonly timeoutMs?: number;
}

export interface MlflowErrorCodes {
  readonly notFound: ErrorCode;
  readonly invalid: ErrorCode;
}

const INVALID_FAMILY = new Set([
  "INVALID_PARAMETER_VALUE",
  "RESOURCE_ALREADY_EXISTS",
  "INVALID_STATE",
  "BAD_REQUEST",
]);

export class MlflowClient {
  readonly baseUrl: string;
  private readonly headers: Record<string, string>;
  private readonly timeoutMs: number;

  constructor(options: MlflowClientOptions) {
    this.baseUrl = options.url.replace(/\/+$/, "");
    this.headers = options.token ? { authorization: `Bearer ${options.token}` } : {};
    this.timeoutMs = options.timeoutMs ?? 15_000;
  }

  async call<T>(
    method: "GET" | "POST" | "PATCH" | "DELETE",
    path: string,
    codes: MlflowErrorCodes,
    input: { readonly query?: Record<string, string>; readonly body?: unknown } = {},
  ): Promise<T> {
    const query = input.query ? `?${new URLSearchParams(input.query)}` : "";
    const response = await this.send(`${this.baseUrl}/api/2.0/mlflow/${path}${query}`, {
      method,
      headers: {
        ...this.headers,
        ...(input.body === undefined ? {} : { "content-type": "application/json" }),
      },
      ...(input.body === undefined ? {} : { body: JSON.stringify(input.body) }),
    });
    const text = await response.text();
    if (!response.ok) throw answerError(response.status, text, codes, `${method} ${path}`);
    return (text.length === 0 ? {} : JSON.parse(text)) as T;
  }

  /** Raw requests to the artifact proxy (`/api/2.0/mlflow-artifacts/artifacts/...`). */
  async artifactRequest(
    method: "GET" | "PUT",
    path: string,
    codes: MlflowErrorCodes,
    body?: Uint8Array,
  ): Promise<Response> {
    const response = await this.send(`${this.baseUrl}/api/2.0/mlflow-artifacts/artifacts${path}`, {
      method,
      headers: { ...this.headers, ...(body ? { "content-type": "application/octet-stream" } : {}) },
      ...(body ? { body: body as Uint8Array<ArrayBuffer> } : {}),
    });
    if (!response.ok) throw answerError(response.status, await response.text(), codes, `${method} artifact`);
    return response;
  }

  private async send(url: string, init: RequestInit): Promise<Response> {
    try {
      return await fetch(url, { ...init, signal: AbortSignal.timeout(this.timeoutMs) });
    } catch (error) {
      throw new PlatformError(
        ErrorCodes.TRACKING_UNAVAILABLE,
        `the MLflow server at ${this.baseUrl} did not answer`,
        {
          cause: error,
        },
      );
    }
  }
}

function answerError(status: number, text: string, codes: MlflowErrorCodes, what: string): PlatformError {
  let errorCode = "";
  let message = "";
  try {
    const parsed = JSON.parse(text) as { error_code?: unknown; message?: unknown };
    errorCode = typeof parsed.error_code === "string" ? parsed.error_code : "";
    message = typeof parsed.message === "string" ? parsed.message : "";
  } catch (error) {
    if (!(error instanceof SyntaxError)) throw error;
    message = "";
  }
  const short = message.slice(0, 300);
  const details = { status, mlflowErrorCode: errorCode };
  if (status >= 500 || status === 429) {
    return new PlatformError(ErrorCodes.TRACKING_UNAVAILABLE, `MLflow answered ${status} to ${what}`, {
      details,
    });
  }
  if (errorCode === "RESOURCE_DOES_NOT_EXIST" || status === 404) {
    return new PlatformError(codes.notFound, short || `MLflow has no such resource (${what})`, { details });
  }
  if (INVALID_FAMILY.has(errorCode) || status === 400) {
    return new PlatformError(codes.invalid, short || `MLflow refused ${what}`, { details });
  }
  return new PlatformError(ErrorCodes.TRACKING_UNAVAILABLE, `MLflow answered ${status} to ${what}`, {
    details,
  });
}

export function tagList(tags: Readonly<Record<string, string>>): { key: string; value: string }[] {
  return Object.entries(tags).map(([key, value]) => ({ key, value }));
}

export function tagMap(tags: readonly { key: string; value: string }[] | undefined): Record<string, string> {
  return Object.fromEntries((tags ?? []).map((tag) => [tag.key, tag.value]));
}
