import { ErrorCodes } from "../messages/errors.ts";
import { SERVER_MAX_BODY_BYTES } from "./body-limits.ts";

/**
 * The request's own size, judged before the app sees it, so that a request too large is told so
 * in the API's shape (`{"error":{"code","message"}}`) rather than by Bun's bare status line.
 *
 * Bun (uWebSockets underneath) refuses a request itself, with an empty 413 or 431, when its
 * body is over `maxRequestBodySize` or its header block over the process's max header size
 * (16 KiB, Node's default). Neither reaches `fetch` or the `error` hook, so the answer cannot be
 * shaped there. Instead the limits that matter are ours and sit below Bun's:
 * - headers: the request line plus every header line over MAX_REQUEST_HEADER_BYTES (16 KiB, the
 *   limit clients already expect from Node and nginx's 8-16 KiB) answer 431
 *   HEADERS_TOO_LARGE; Bun's own limit is raised to NATIVE_HEADER_BYTES (64 KiB) so there is
 *   room between the two;
 * - body: a Content-Length over SERVER_MAX_BODY_BYTES answers 413 PAYLOAD_TOO_LARGE before a
 *   byte of the body is read, and a chunked body is counted while it is read by every route's cap
 *   (body-limits.ts). Bun's own cap is lifted (NATIVE_BODY_BYTES): Bun compares a declared
 *   Content-Length with it before `fetch`, so any cap of its own answers bare first.
 * Both answers close the connection, so the unread body is not drained (a 200 MB upload is cut
 * off after the first few MB the socket buffered).
 * What Bun still answers bare: a header block over 64 KiB, or more header lines than it parses
 * (about 200); an answer in our shape there would need a proxy in front.
 */
export const MAX_REQUEST_HEADER_BYTES = 16 * 1024;
export const NATIVE_HEADER_BYTES = 64 * 1024;
export const NATIVE_BODY_BYTES = Number.MAX_SAFE_INTEGER;

/** bytes of the request line and header block as sent: "METHOD target HTTP/1.1\r\n" and "name: value\r\n" */
export function requestHeaderBytes(request: Request): number {
  const url = new URL(request.url);
  let bytes = `${request.method}  HTTP/1.1\r\n`.length + url.pathname.length + url.search.length;
  request.headers.forEach((value, name) => {
    bytes += name.length + value.length + 4;
  });
  return bytes;
}

const refusal = (status: number, code: string, message: string) =>
  new Response(JSON.stringify({ error: { code, message } }), {
    status,
    headers: { "content-type": "application/json", connection: "close" },
  });

/** the answer to a request over the server's size limits, or undefined when it is within them */
export function oversizedRequest(request: Request): Response | undefined {
  const headerBytes = requestHeaderBytes(request);
  if (headerBytes > MAX_REQUEST_HEADER_BYTES)
    return refusal(
      431,
      ErrorCodes.HEADERS_TOO_LARGE,
      `the request line and headers are ${headerBytes} bytes, over the limit of ${MAX_REQUEST_HEADER_BYTES}`,
    );
  const declared = request.headers.get("content-length");
  if (declared !== null && Number(declared) > SERVER_MAX_BODY_BYTES)
    return refusal(
      413,
      ErrorCodes.PAYLOAD_TOO_LARGE,
      `the request body is over the server's limit of ${SERVER_MAX_BODY_BYTES} bytes`,
    );
  return undefined;
}
