import { type RouteConfig, z } from "@hono/zod-openapi";
import { SilenceBody } from "../alerts/routes.ts";
import { ErrorBody, errorResponses, jsonResponse, pathParams } from "../openapi.ts";

/** api/alerts/routes.ts, mounted at /api/v1/alerts (Alertmanager's v2 shapes) */
const Silence = z
  .object({
    id: z.string(),
    matchers: z.array(
      z.object({ name: z.string(), value: z.string(), isRegex: z.boolean(), isEqual: z.boolean() }),
    ),
    startsAt: z.string(),
    endsAt: z.string(),
    updatedAt: z.string(),
    createdBy: z.string(),
    comment: z.string(),
    status: z.object({ state: z.enum(["pending", "active", "expired"]) }),
  })
  .openapi("Silence");

const ActiveAlert = z
  .object({ labels: z.record(z.string(), z.string()), state: z.string() })
  .catchall(z.unknown())
  .openapi("ActiveAlert");

const noSilence = { 404: jsonResponse(ErrorBody, "no such silence") };

export const ALERT_ROUTES: readonly RouteConfig[] = [
  {
    method: "get",
    path: "/active",
    summary: "Pending and firing alerts, with their state and what mutes them",
    request: {
      query: z.object({
        state: z.enum(["pending", "firing"]).optional(),
        silenced: z.enum(["true", "false"]).optional(),
        inhibited: z.enum(["true", "false"]).optional(),
      }),
    },
    responses: {
      200: jsonResponse(z.object({ alerts: z.array(ActiveAlert) }), "the alerts"),
      ...errorResponses,
    },
  },
  {
    method: "get",
    path: "/silences",
    summary: "Every silence with its state",
    responses: {
      200: jsonResponse(z.object({ silences: z.array(Silence) }), "the silences"),
      ...errorResponses,
    },
  },
  {
    method: "get",
    path: "/silences/{id}",
    summary: "One silence",
    request: { params: pathParams("id") },
    responses: {
      200: jsonResponse(z.object({ silence: Silence }), "the silence"),
      ...noSilence,
      ...errorResponses,
    },
  },
  {
    method: "post",
    path: "/silences",
    summary: "Silence alerts matching the matchers for a while (operator)",
    request: { body: { content: { "application/json": { schema: SilenceBody } }, required: true } },
    responses: {
      201: jsonResponse(z.object({ silenceID: z.string(), silence: Silence }), "the silence, on disk"),
      413: jsonResponse(ErrorBody, "a body over the cap"),
      ...errorResponses,
    },
  },
  {
    method: "delete",
    path: "/silences/{id}",
    summary: "Expire a silence now (operator)",
    request: { params: pathParams("id") },
    responses: {
      200: jsonResponse(z.object({ silence: Silence }), "the expired silence"),
      ...noSilence,
      ...errorResponses,
    },
  },
];
