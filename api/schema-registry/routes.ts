import { type Context, Hono, type Next } from "hono";
import { bodyLimit } from "hono/body-limit";
import type { ContentfulStatusCode } from "hono/utils/http-status";
import { ErrorCodes, PlatformError } from "../../messages/errors.ts";
import { SUPPORTED_SCHEMA_TYPES } from "../../messages/schema-registry/registered-schema.ts";
import { MAX_SCHEMA_BYTES } from "../../messages/schema-registry/schema-bounds.ts";
import {
  parseVersionRef,
  type SchemaRegistry,
  type SubjectSchema,
} from "../../registries/schema-registry.ts";
import { httpStatusOf, registryErrorBody } from "./registry-errors.ts";

/**
 * The Confluent Schema Registry REST API (v1) over a `SchemaRegistry`, as a Hono sub-app. Mount it
 * at the root or under a prefix (`app.route("/schema-registry", ...)`); Confluent clients take the
 * base URL either way. Request bodies must be one of REQUEST_CONTENT_TYPES, as Confluent's
 * resources declare them (`@Consumes`); responses use `application/vnd.schemaregistry.v1+json`,
 * errors are `{error_code, message}`.
 */
export const REGISTRY_CONTENT_TYPE = "application/vnd.schemaregistry.v1+json";

/**
 * Confluent accepts its two vendor types, plain JSON and `application/octet-stream`; anything
 * else, `text/plain` or a form post included, is 415 with `{error_code: 415}` as its rest-utils
 * answers. Jersey also reads a body without a Content-Type as octet-stream; here that is 415
 * too, because a browser sends a Blob body without one and without a CORS preflight, so a page
 * anywhere could have written schemas (the two-call brick attack used exactly such writes).
 */
export const REQUEST_CONTENT_TYPES: readonly string[] = [
  REGISTRY_CONTENT_TYPE,
  "application/vnd.schemaregistry+json",
  "application/json",
  "application/octet-stream",
];

/**
 * The largest request body read: a schema at MAX_SCHEMA_BYTES, JSON-escaped inside the request
 * (escaping can double it), plus room for the other fields. Past it: 413 before anything is parsed.
 */
export const MAX_REQUEST_BYTES = 2 * MAX_SCHEMA_BYTES + 64 * 1024;

interface SchemaRequest {
  readonly schema?: unknown;
  readonly schemaType?: unknown;
  readonly references?: unknown;
}

function reply(c: Context, body: unknown, status: ContentfulStatusCode = 200): Response {
  return c.body(JSON.stringify(body), status, { "content-type": REGISTRY_CONTENT_TYPE });
}

function flag(c: Context, name: string): boolean {
  return c.req.query(name)?.toLowerCase() === "true";
}

async function readBody(c: Context): Promise<SchemaRequest & { compatibility?: unknown }> {
  let body: unknown;
  try {
    body = await c.req.json();
  } catch (cause) {
    throw new PlatformError(ErrorCodes.MALFORMED_JSON, "request body is not JSON", {
      cause,
      details: { registryErrorCode: 400 },
    });
  }
  if (typeof body !== "object" || body === null || Array.isArray(body)) {
    throw new PlatformError(ErrorCodes.MALFORMED_JSON, "request body must be a JSON object", {
      details: { registryErrorCode: 400 },
    });
  }
  return body as SchemaRequest;
}

async function readSchema(c: Context): Promise<{ schema: string; schemaType: string | undefined }> {
  const body = await readBody(c);
  if (Array.isArray(body.references) && body.references.length > 0) {
    throw new PlatformError(
      ErrorCodes.SCHEMA_INVALID,
      "schema references are not supported by this registry",
      {
        details: { registryErrorCode: 42201 },
      },
    );
  }
  if (typeof body.schema !== "string") {
    throw new PlatformError(ErrorCodes.SCHEMA_INVALID, "'schema' must be a string holding the schema", {
      details: { registryErrorCode: 42201 },
    });
  }
  return {
    schema: body.schema,
    schemaType: typeof body.schemaType === "string" ? body.schemaType : undefined,
  };
}

function versionBody(found: SubjectSchema): Record<string, unknown> {
  return {
    subject: found.subject,
    version: found.version,
    id: found.id,
    schemaType: found.schemaType,
    schema: found.schema,
  };
}

function idParam(raw: string): number {
  const id = /^\d+$/.test(raw) ? Number(raw) : Number.NaN;
  if (!Number.isSafeInteger(id))
    throw new PlatformError(ErrorCodes.UNKNOWN_SCHEMA, `Schema ${raw} not found`, {
      details: { registryErrorCode: 40403 },
    });
  return id;
}

function mediaTypeOf(c: Context): string | undefined {
  return c.req.header("content-type")?.split(";")[0]?.trim().toLowerCase() || undefined;
}

/** 415 for a body in a media type Confluent's resources do not consume. */
async function requireRegistryContentType(c: Context, next: Next): Promise<Response | undefined> {
  const type = mediaTypeOf(c);
  if (type === undefined || !REQUEST_CONTENT_TYPES.includes(type)) {
    return reply(
      c,
      {
        error_code: 415,
        message: `HTTP 415 Unsupported Media Type: send the request as ${REQUEST_CONTENT_TYPES.slice(0, 3).join(", ")}`,
      },
      415,
    );
  }
  await next();
  return undefined;
}

export function schemaRegistryRoutes(registry: SchemaRegistry): Hono {
  const app = new Hono();

  app.onError((error, c) => {
    const body = registryErrorBody(error);
    if (body.error_code >= 50000) console.error("schema registry request failed:", error);
    return reply(c, body, httpStatusOf(body.error_code) as ContentfulStatusCode);
  });

  const tooLarge = (c: Context) =>
    reply(
      c,
      {
        error_code: 41301,
        message: `Request body is too large: at most ${MAX_REQUEST_BYTES} bytes are accepted`,
      },
      413,
    );
  // Only the routes that read a body, so a registry mounted at the root leaves the host's alone.
  const bodyChecks = [
    requireRegistryContentType,
    bodyLimit({ maxSize: MAX_REQUEST_BYTES, onError: tooLarge }),
  ];
  app.on(
    "POST",
    [
      "/subjects/:subject/versions",
      "/subjects/:subject",
      "/compatibility/subjects/:subject/versions/:version",
      "/compatibility/subjects/:subject/versions",
    ],
    ...bodyChecks,
  );
  app.on("PUT", ["/config", "/config/:subject", "/mode", "/mode/:subject"], ...bodyChecks);
  // Every answer reads `_schemas` as it is now, not as of this registry's last follow (up to a
  // second old): a client that registers through one node and reads through another is served
  // at once, never a 404. Concurrent requests share one read. When the log cannot be read, the
  // state as last followed answers, as a Confluent follower answers from its local store; the
  // node's follow of the topic reports the log's failure, so it is not reported here again.
  app.use("*", async (_c, next) => {
    await registry.catchUp().catch(() => undefined);
    await next();
  });

  app.get("/", (c) => reply(c, {}));
  app.get("/schemas/types", (c) => reply(c, SUPPORTED_SCHEMA_TYPES));

  app.get("/subjects", (c) => reply(c, registry.subjects(flag(c, "deleted"))));
  app.get("/subjects/:subject/versions", (c) =>
    reply(c, registry.versions(c.req.param("subject"), flag(c, "deleted"))),
  );
  app.get("/subjects/:subject/versions/:version", (c) => {
    const found = registry.version(
      c.req.param("subject"),
      parseVersionRef(c.req.param("version")),
      flag(c, "deleted"),
    );
    return reply(c, versionBody(found));
  });
  app.get("/subjects/:subject/versions/:version/schema", (c) => {
    const found = registry.version(
      c.req.param("subject"),
      parseVersionRef(c.req.param("version")),
      flag(c, "deleted"),
    );
    return c.body(found.schema, 200, { "content-type": REGISTRY_CONTENT_TYPE });
  });
  app.post("/subjects/:subject/versions", async (c) => {
    const { schema, schemaType } = await readSchema(c);
    const registered = await registry.register(
      c.req.param("subject"),
      schema,
      schemaType === undefined ? {} : { schemaType },
    );
    return reply(c, { id: registered.id });
  });
  app.post("/subjects/:subject", async (c) => {
    const { schema, schemaType } = await readSchema(c);
    const options = {
      includeDeleted: flag(c, "deleted"),
      ...(schemaType === undefined ? {} : { schemaType }),
    };
    return reply(c, versionBody(registry.lookup(c.req.param("subject"), schema, options)));
  });
  app.delete("/subjects/:subject", async (c) =>
    reply(c, await registry.deleteSubject(c.req.param("subject"), flag(c, "permanent"))),
  );
  app.delete("/subjects/:subject/versions/:version", async (c) => {
    const ref = parseVersionRef(c.req.param("version"));
    return reply(c, await registry.deleteVersion(c.req.param("subject"), ref, flag(c, "permanent")));
  });

  app.get("/schemas/ids/:id", (c) => {
    const schema = registry.schemaById(idParam(c.req.param("id")));
    return reply(c, { schemaType: schema.schemaType, schema: schema.schema });
  });
  app.get("/schemas/ids/:id/schema", (c) => {
    const schema = registry.schemaById(idParam(c.req.param("id")));
    return c.body(schema.schema, 200, { "content-type": REGISTRY_CONTENT_TYPE });
  });
  app.get("/schemas/ids/:id/versions", (c) =>
    reply(c, registry.subjectVersionsOf(idParam(c.req.param("id")), flag(c, "deleted"))),
  );
  app.get("/schemas/ids/:id/subjects", (c) => {
    const usages = registry.subjectVersionsOf(idParam(c.req.param("id")), flag(c, "deleted"));
    return reply(c, [...new Set(usages.map((u) => u.subject))]);
  });

  const compatibility = async (c: Context, version: string | undefined) => {
    const { schema, schemaType } = await readSchema(c);
    const ref = version === undefined ? undefined : parseVersionRef(version);
    const messages = registry.compatibility(c.req.param("subject")!, schema, ref, schemaType);
    return reply(c, messages.length === 0 ? { is_compatible: true } : { is_compatible: false, messages });
  };
  app.post("/compatibility/subjects/:subject/versions/:version", (c) =>
    compatibility(c, c.req.param("version")),
  );
  app.post("/compatibility/subjects/:subject/versions", (c) => compatibility(c, undefined));

  app.get("/config", (c) => reply(c, { compatibilityLevel: registry.globalCompatibility() }));
  app.put("/config", async (c) =>
    reply(c, {
      compatibility: await registry.setCompatibility(null, String((await readBody(c)).compatibility)),
    }),
  );
  app.get("/config/:subject", (c) => {
    const subject = c.req.param("subject");
    const level =
      registry.subjectCompatibility(subject) ??
      (flag(c, "defaultToGlobal") ? registry.globalCompatibility() : undefined);
    if (level === undefined) {
      throw new PlatformError(
        ErrorCodes.SUBJECT_NOT_FOUND,
        `Subject '${subject}' does not have subject-level compatibility configured`,
        {
          details: { registryErrorCode: 40408 },
        },
      );
    }
    return reply(c, { compatibilityLevel: level });
  });
  app.put("/config/:subject", async (c) => {
    const level = await registry.setCompatibility(
      c.req.param("subject"),
      String((await readBody(c)).compatibility),
    );
    return reply(c, { compatibility: level });
  });
  app.delete("/config/:subject", async (c) =>
    reply(c, { compatibilityLevel: await registry.deleteSubjectCompatibility(c.req.param("subject")) }),
  );

  // The registry has one mode, READWRITE: schemas are written only through this API. Asking
  // for another mode is refused as Confluent refuses an operation it does not permit.
  app.get("/mode", (c) => reply(c, { mode: "READWRITE" }));
  app.get("/mode/:subject", (c) => reply(c, { mode: "READWRITE" }));
  const onlyReadWrite = (c: Context) =>
    reply(
      c,
      {
        error_code: 42205,
        message: "this registry only runs in READWRITE mode; IMPORT and READONLY are refused",
      },
      422,
    );
  app.put("/mode", onlyReadWrite);
  app.put("/mode/:subject", onlyReadWrite);

  return app;
}
