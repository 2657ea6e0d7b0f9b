import { type ErrorCode, PlatformError } from "../messages/errors.ts";

/**
 * POST a JSON body with a timeout; a network failure or a non-2xx answer is a PlatformError
 * with `code`, naming the host but never the URL's credentials, path or query (a webhook URL
 * often carries a token).
 */
export async function postJson(
  url: string,
  body: unknown,
  options: { code: ErrorCode; what: string; timeoutMs: number; headers?: Record<string, string> },
): Promise<void> {
  const where = hostOf(url);
  let response: Response;
  try {
    response = await fetch(url, {
      method: "POST",
      headers: { "content-type": "application/json", ...options.headers },
      body: JSON.stringify(body),
      signal: AbortSignal.timeout(options.timeoutMs),
    });
  } catch (cause) {
    throw new PlatformError(options.code, `${options.what} at ${where} unreachable`, { cause });
  }
  // the body is read so the connection can be reused; its text is not echoed (it may be large)
  await response.arrayBuffer().catch((cause: unknown) => {
    throw new PlatformError(options.code, `${options.what} at ${where}: answer cut off`, { cause });
  });
  if (!response.ok)
    throw new PlatformError(options.code, `${options.what} at ${where} answered HTTP ${response.status}`, {
      details: { status: response.status },
    });
}

export function hostOf(url: string): string {
  try {
    return new URL(url).host;
  } catch {
    return "an invalid URL";
  }
}
