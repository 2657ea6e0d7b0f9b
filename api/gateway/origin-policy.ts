/**
 * Which web origins may talk to the API from a browser, and who counts as "this machine".
 *
 * - CORS: only origins on the allow-list (CORS_ORIGINS, exact `scheme://host[:port]`) get
 *   Access-Control-Allow-Origin; there is no wildcard, because the API's answers are not public.
 * - A state-changing request or a WebSocket upgrade that carries an Origin must come from the
 *   allow-list or from the node's own origin (a page it serves, like /docs): this stops a page
 *   elsewhere from writing with a "simple" request or opening a feed with the user's network
 *   position (cross-site WebSocket hijacking).
 * - Loopback: development mode trusts callers on this machine, so it needs both the socket's
 *   address and the Host header to be loopback. The Host check stops DNS rebinding: a page at
 *   evil.example whose name was re-pointed at 127.0.0.1 reaches the socket from loopback, but
 *   its requests say `Host: evil.example`.
 */
export interface OriginPolicy {
  /** on the allow-list */
  listed(origin: string): boolean;
  /** on the allow-list, or the origin the request was sent to */
  acceptable(origin: string, requestUrl: string): boolean;
}

export function normalizeOrigin(origin: string): string | undefined {
  try {
    const url = new URL(origin);
    if (url.protocol !== "http:" && url.protocol !== "https:") return undefined;
    return url.origin;
  } catch (error) {
    if (error instanceof TypeError) return undefined;
    throw error;
  }
}

export function originPolicy(allowList: readonly string[]): OriginPolicy {
  const allowed = new Set(allowList.map(normalizeOrigin).filter((o): o is string => o !== undefined));
  const listed = (origin: string) => {
    const normal = normalizeOrigin(origin);
    return normal !== undefined && allowed.has(normal);
  };
  return {
    listed,
    acceptable(origin, requestUrl) {
      if (listed(origin)) return true;
      const normal = normalizeOrigin(origin);
      return normal !== undefined && normal === new URL(requestUrl).origin;
    },
  };
}

/** parses a comma-separated CORS_ORIGINS; an entry that is not an http(s) origin is an error */
export function parseOrigins(text: string): string[] | Error {
  const entries = text
    .split(",")
    .map((e) => e.trim())
    .filter((e) => e.length > 0);
  for (const entry of entries) {
    const normal = normalizeOrigin(entry);
    if (normal === undefined || normal !== entry.replace(/\/$/, ""))
      return new Error(`'${entry.slice(0, 80)}' is not an origin like https://app.example.com[:port]`);
  }
  return entries;
}

export function isLoopbackAddress(address: string | undefined): boolean {
  if (address === undefined) return false;
  const plain = address.startsWith("::ffff:") ? address.slice(7) : address;
  return plain === "::1" || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(plain);
}

/** the Host header names this machine: localhost, 127.x.x.x or [::1], any port */
export function isLoopbackHost(host: string | undefined): boolean {
  if (!host) return false;
  const name = host.startsWith("[") ? host.slice(0, host.indexOf("]") + 1) : host.split(":")[0]!;
  const lower = name.toLowerCase();
  return lower === "localhost" || lower === "[::1]" || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(lower);
}
