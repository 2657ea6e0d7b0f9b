import { ErrorCodes, PlatformError } from "../../messages/errors.ts";

/**
 * One GET to a news provider, with what every provider needs: a time limit, a cap on the answer
 * size (a hostile or broken server cannot fill memory), and HTTP failures turned into the
 * NewsSource port's error codes. The URL is never put in an error: it may carry a key.
 */
export interface ProviderRequest {
  readonly provider: string;
  readonly url: URL;
  readonly headers?: Record<string, string>;
  readonly timeoutMs: number;
  readonly maxBytes: number;
  readonly signal?: AbortSignal;
  readonly fetch?: typeof fetch;
}

export interface ProviderAnswer {
  readonly status: number;
  readonly json: unknown;
}

export async function getProviderJson(request: ProviderRequest): Promise<ProviderAnswer> {
  const { provider } = request;
  const signals = [AbortSignal.timeout(request.timeoutMs)];
  if (request.signal) signals.push(request.signal);
  let response: Response;
  try {
    response = await (request.fetch ?? fetch)(request.url, {
      headers: { accept: "application/json", ...request.headers },
      signal: AbortSignal.any(signals),
      redirect: "error",
    });
  } catch (cause) {
    throw new PlatformError(ErrorCodes.SOURCE_UNAVAILABLE, `${provider} did not answer: ${reasonOf(cause)}`, {
      cause,
    });
  }
  if (response.status === 429) {
    await response.body?.cancel();
    throw new PlatformError(ErrorCodes.RATE_LIMITED, `${provider} rate limit reached`, {
      details: { retryAfterMs: retryAfterMs(response.headers.get("retry-after")) },
    });
  }
  if (response.status === 401 || response.status === 403) {
    await response.body?.cancel();
    throw new PlatformError(
      ErrorCodes.SOURCE_UNAUTHORIZED,
      `${provider} refused the credentials (${response.status})`,
    );
  }
  const length = Number(response.headers.get("content-length") ?? 0);
  if (length > request.maxBytes) {
    await response.body?.cancel();
    throw new PlatformError(
      ErrorCodes.SOURCE_UNAVAILABLE,
      `${provider} answered ${length} bytes, over ${request.maxBytes}`,
    );
  }
  const text = await readCapped(response, request.maxBytes, provider);
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (cause) {
    throw new PlatformError(
      ErrorCodes.SOURCE_UNAVAILABLE,
      `${provider} answered ${response.status} with no JSON`,
      {
        cause,
      },
    );
  }
  return { status: response.status, json };
}

async function readCapped(response: Response, maxBytes: number, provider: string): Promise<string> {
  if (!response.body) return "";
  const chunks: Uint8Array[] = [];
  let size = 0;
  const reader = response.body.getReader();
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > maxBytes) {
      await reader.cancel();
      throw new PlatformError(ErrorCodes.SOURCE_UNAVAILABLE, `${provider} answer exceeds ${maxBytes} bytes`);
    }
    chunks.push(value);
  }
  return new TextDecoder().decode(Buffer.concat(chunks));
}

/** Retry-After in seconds or as an HTTP date; 60 s when absent or unreadable */
export function retryAfterMs(header: string | null, now = Date.now()): number {
  if (header === null) return 60_000;
  const seconds = Number(header);
  if (Number.isFinite(seconds) && seconds >= 0) return Math.min(seconds * 1000, 3_600_000);
  const at = Date.parse(header);
  return Number.isFinite(at) ? Math.min(Math.max(0, at - now), 3_600_000) : 60_000;
}

function reasonOf(cause: unknown): string {
  if (cause instanceof Error && cause.name === "TimeoutError") return "timed out";
  if (cause instanceof Error && cause.name === "AbortError") return "aborted";
  return cause instanceof Error ? cause.name : "network error";
}
