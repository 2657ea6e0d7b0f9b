import type { MiddlewareHandler } from "hono";
import { secureHeaders } from "hono/secure-headers";

/**
 * Response headers every answer carries (OWASP's secure headers): no MIME sniffing, no framing,
 * no referrer, a Content-Security-Policy that lets a page the node serves load only its own
 * scripts, and HSTS when the node serves HTTPS. Swagger UI at /docs loads its bundle from
 * jsDelivr and starts with an inline script, so /docs alone allows those.
 */
const SWAGGER_CDN = "https://cdn.jsdelivr.net";

export function securityHeaders(options: {
  readonly tls: boolean;
  readonly docsPath: string;
}): MiddlewareHandler {
  const common = {
    xFrameOptions: "DENY",
    referrerPolicy: "no-referrer",
    crossOriginResourcePolicy: "same-origin",
    strictTransportSecurity: options.tls ? "max-age=31536000; includeSubDomains" : false,
  } as const;
  const api = secureHeaders({
    ...common,
    contentSecurityPolicy: {
      defaultSrc: ["'self'"],
      // data: images are inert (a page's placeholder favicon is one)
      imgSrc: ["'self'", "data:"],
      objectSrc: ["'none'"],
      baseUri: ["'none'"],
      frameAncestors: ["'none'"],
      formAction: ["'self'"],
    },
  });
  const docs = secureHeaders({
    ...common,
    contentSecurityPolicy: {
      defaultSrc: ["'self'"],
      scriptSrc: ["'self'", "'unsafe-inline'", SWAGGER_CDN],
      styleSrc: ["'self'", "'unsafe-inline'", SWAGGER_CDN],
      imgSrc: ["'self'", "data:", SWAGGER_CDN],
      objectSrc: ["'none'"],
      baseUri: ["'none'"],
      frameAncestors: ["'none'"],
    },
  });
  return (c, next) => (c.req.path === options.docsPath ? docs(c, next) : api(c, next));
}
