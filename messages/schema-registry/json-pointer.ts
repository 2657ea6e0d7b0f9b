import { ErrorCodes, PlatformError } from "../errors.ts";

/**
 * JSON Pointer (RFC 6901) helpers shared by the validator and the compatibility checker:
 * failures and differences are reported as URI fragments like `#/properties/avg_speed`.
 */

export type JsonSchemaNode = boolean | Readonly<Record<string, unknown>>;

/** escape one reference token: `~` -> `~0`, `/` -> `~1` (RFC 6901 section 3) */
export function escapeToken(token: string | number): string {
  const text = String(token);
  return text.includes("~") || text.includes("/") ? text.replaceAll("~", "~0").replaceAll("/", "~1") : text;
}

export function appendPointer(pointer: string, ...tokens: (string | number)[]): string {
  let out = pointer;
  for (const token of tokens) out += `/${escapeToken(token)}`;
  return out;
}

function unescapeToken(token: string): string {
  return decodeURIComponent(token).replaceAll("~1", "/").replaceAll("~0", "~");
}

export function isSchemaObject(node: unknown): node is Readonly<Record<string, unknown>> {
  return typeof node === "object" && node !== null && !Array.isArray(node);
}

/**
 * Resolve a local `$ref` (`#`, `#/definitions/x`, `#/$defs/x`) against the document root.
 * Remote references are not supported: schema references across subjects are out of scope.
 */
export function resolveLocalRef(root: JsonSchemaNode, ref: string): JsonSchemaNode {
  if (!ref.startsWith("#")) {
    throw new PlatformError(ErrorCodes.SCHEMA_INVALID, `only local $ref is supported, got '${ref}'`);
  }
  const path = ref.slice(1);
  if (path === "") return root;
  if (!path.startsWith("/")) {
    throw new PlatformError(ErrorCodes.SCHEMA_INVALID, `$ref '${ref}' is not a JSON pointer`);
  }
  let node: unknown = root;
  for (const raw of path.slice(1).split("/")) {
    const token = unescapeToken(raw);
    node = isSchemaObject(node) ? node[token] : Array.isArray(node) ? node[Number(token)] : undefined;
    if (node === undefined) {
      throw new PlatformError(ErrorCodes.SCHEMA_INVALID, `$ref '${ref}' does not resolve`);
    }
  }
  if (typeof node !== "boolean" && !isSchemaObject(node)) {
    throw new PlatformError(ErrorCodes.SCHEMA_INVALID, `$ref '${ref}' does not point at a schema`);
  }
  return node;
}
