import { type RouteConfig, z } from "@hono/zod-openapi";
import { pathParams } from "../openapi.ts";

/**
 * api/schema-registry/routes.ts, mounted at /schema-registry: Confluent's Schema Registry REST
 * API (v1). Answers are `application/vnd.schemaregistry.v1+json`; errors are Confluent's
 * `{error_code, message}`, not the platform's envelope, so Confluent clients read them.
 */
const MEDIA = "application/vnd.schemaregistry.v1+json";
const RegistryError = z
  .object({ error_code: z.number().int(), message: z.string() })
  .openapi("SchemaRegistryError");
const answer = (schema: z.ZodType, description: string) => ({
  description,
  content: { [MEDIA]: { schema }, "application/json": { schema } },
});
const errors = {
  401: answer(RegistryError, "no credential"),
  403: answer(RegistryError, "the caller's role is not enough (writes need admin)"),
  404: answer(RegistryError, "no such subject, version or schema (40401, 40402, 40403)"),
  409: answer(RegistryError, "incompatible with the subject's earlier versions"),
  415: answer(RegistryError, "a request body in a media type Confluent does not consume"),
  422: answer(RegistryError, "an invalid schema, version or compatibility level"),
};
const SchemaInput = z
  .object({
    schema: z.string(),
    schemaType: z.enum(["AVRO", "JSON", "PROTOBUF"]).optional(),
    references: z
      .array(z.object({ name: z.string(), subject: z.string(), version: z.number().int() }))
      .optional(),
  })
  .openapi("SchemaInput");
const SubjectVersion = z
  .object({
    subject: z.string(),
    id: z.number().int(),
    version: z.number().int(),
    schema: z.string(),
    schemaType: z.string().optional(),
  })
  .openapi("SubjectVersion");
const body = (schema: z.ZodType) => ({
  content: { [MEDIA]: { schema }, "application/json": { schema } },
  required: true,
});
const deleted = z.object({ deleted: z.enum(["true", "false"]).optional() });
const permanent = z.object({ permanent: z.enum(["true", "false"]).optional() });
const Compatibility = z.object({ compatibilityLevel: z.string() });
const Mode = z.object({ mode: z.string() });

const get = (
  path: string,
  summary: string,
  ok: z.ZodType,
  request?: RouteConfig["request"],
): RouteConfig => ({
  method: "get",
  path,
  summary,
  ...(request ? { request } : {}),
  responses: { 200: answer(ok, "ok"), ...errors },
});

export const SCHEMA_REGISTRY_ROUTES: readonly RouteConfig[] = [
  get("/", "The registry's root (Confluent answers {})", z.object({})),
  get("/schemas/types", "The schema types it takes", z.array(z.string())),
  get("/subjects", "Every subject", z.array(z.string()), { query: deleted }),
  get("/subjects/{subject}/versions", "A subject's versions", z.array(z.number().int()), {
    params: pathParams("subject"),
    query: deleted,
  }),
  get("/subjects/{subject}/versions/{version}", "One version of a subject (or `latest`)", SubjectVersion, {
    params: pathParams("subject", "version"),
  }),
  get("/subjects/{subject}/versions/{version}/schema", "Only the schema text of a version", z.unknown(), {
    params: pathParams("subject", "version"),
  }),
  {
    method: "post",
    path: "/subjects/{subject}/versions",
    summary: "Register a schema under a subject (admin)",
    request: { params: pathParams("subject"), body: body(SchemaInput) },
    responses: { 200: answer(z.object({ id: z.number().int() }), "the schema's id"), ...errors },
  },
  {
    method: "post",
    path: "/subjects/{subject}",
    summary: "Look a schema up under a subject (changes nothing)",
    request: { params: pathParams("subject"), body: body(SchemaInput) },
    responses: { 200: answer(SubjectVersion, "the version holding it"), ...errors },
  },
  {
    method: "delete",
    path: "/subjects/{subject}",
    summary:
      "Delete a subject, soft or (after a soft delete) permanent (admin; the node's own subjects are protected)",
    request: { params: pathParams("subject"), query: permanent },
    responses: { 200: answer(z.array(z.number().int()), "the deleted versions"), ...errors },
  },
  {
    method: "delete",
    path: "/subjects/{subject}/versions/{version}",
    summary: "Delete one version, soft or permanent (admin)",
    request: { params: pathParams("subject", "version"), query: permanent },
    responses: { 200: answer(z.number().int(), "the deleted version"), ...errors },
  },
  get(
    "/schemas/ids/{id}",
    "A schema by id",
    z.object({ schema: z.string(), schemaType: z.string().optional() }),
    {
      params: pathParams("id"),
    },
  ),
  get("/schemas/ids/{id}/schema", "Only the schema text of an id", z.unknown(), { params: pathParams("id") }),
  get(
    "/schemas/ids/{id}/versions",
    "The subject versions holding an id",
    z.array(z.object({ subject: z.string(), version: z.number().int() })),
    { params: pathParams("id") },
  ),
  get("/schemas/ids/{id}/subjects", "The subjects holding an id", z.array(z.string()), {
    params: pathParams("id"),
  }),
  {
    method: "post",
    path: "/compatibility/subjects/{subject}/versions/{version}",
    summary: "Is a schema compatible with one version (changes nothing)",
    request: { params: pathParams("subject", "version"), body: body(SchemaInput) },
    responses: { 200: answer(z.object({ is_compatible: z.boolean() }), "the verdict"), ...errors },
  },
  {
    method: "post",
    path: "/compatibility/subjects/{subject}/versions",
    summary: "Is a schema compatible with the subject's versions (changes nothing)",
    request: { params: pathParams("subject"), body: body(SchemaInput) },
    responses: { 200: answer(z.object({ is_compatible: z.boolean() }), "the verdict"), ...errors },
  },
  get("/config", "The global compatibility level", Compatibility),
  {
    method: "put",
    path: "/config",
    summary: "Set the global compatibility level (admin)",
    request: { body: body(z.object({ compatibility: z.string() })) },
    responses: { 200: answer(z.object({ compatibility: z.string() }), "the level"), ...errors },
  },
  get("/config/{subject}", "A subject's compatibility level", Compatibility, {
    params: pathParams("subject"),
  }),
  {
    method: "put",
    path: "/config/{subject}",
    summary: "Set a subject's compatibility level (admin)",
    request: { params: pathParams("subject"), body: body(z.object({ compatibility: z.string() })) },
    responses: { 200: answer(z.object({ compatibility: z.string() }), "the level"), ...errors },
  },
  {
    method: "delete",
    path: "/config/{subject}",
    summary: "Drop a subject's own level: the global one applies (admin)",
    request: { params: pathParams("subject") },
    responses: { 200: answer(Compatibility, "the level it had"), ...errors },
  },
  get("/mode", "The registry's mode (READWRITE)", Mode),
  get("/mode/{subject}", "A subject's mode (READWRITE)", Mode, { params: pathParams("subject") }),
  {
    method: "put",
    path: "/mode",
    summary: "Set the mode: only READWRITE is taken (admin)",
    request: { body: body(Mode) },
    responses: { 200: answer(Mode, "the mode"), ...errors },
  },
  {
    method: "put",
    path: "/mode/{subject}",
    summary: "Set a subject's mode: only READWRITE is taken (admin)",
    request: { params: pathParams("subject"), body: body(Mode) },
    responses: { 200: answer(Mode, "the mode"), ...errors },
  },
];
