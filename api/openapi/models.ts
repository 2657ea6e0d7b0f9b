import { type RouteConfig, z } from "@hono/zod-openapi";
import { routingPolicySchema } from "../../ml/serving/routing-policy.ts";
import { ErrorBody, errorResponses, jsonResponse, pathParams } from "../openapi.ts";

/** api/models/routes.ts, mounted at /api/v1/models */
const Model = z.record(z.string(), z.unknown()).openapi("ServedModel", {
  description: "policy, aliases, versions with their live metrics, the retraining loop's stage",
});
const reason = z.string().min(1).max(1000).openapi({ description: "why, for the registry's transition log" });
const named = { params: pathParams("name") };
const body = (schema: z.ZodType) => ({ content: { "application/json": { schema } }, required: true });
const noModel = { 404: jsonResponse(ErrorBody, "no such model") };

export const MODEL_ROUTES: readonly RouteConfig[] = [
  {
    method: "get",
    path: "/",
    summary: "The served models",
    responses: { 200: jsonResponse(z.object({ models: z.array(Model) }), "the models"), ...errorResponses },
  },
  {
    method: "get",
    path: "/{name}",
    summary: "One model, with its registry transitions (who, why)",
    request: named,
    responses: { 200: jsonResponse(Model, "the model"), ...noModel, ...errorResponses },
  },
  {
    method: "post",
    path: "/{name}/predict",
    summary: "Predictions for rows of features, and the version that answered",
    request: {
      ...named,
      body: body(
        z.union([
          z.object({ row: z.union([z.array(z.number()), z.record(z.string(), z.number())]) }),
          z.object({
            rows: z.array(z.union([z.array(z.number()), z.record(z.string(), z.number())])).max(10_000),
          }),
        ]),
      ),
    },
    responses: {
      200: jsonResponse(z.record(z.string(), z.unknown()), "values and versions"),
      ...noModel,
      ...errorResponses,
    },
  },
  {
    method: "put",
    path: "/{name}/policy",
    summary: "Route traffic by a policy (single, canary, ab, shadow), in force at once (operator)",
    request: { ...named, body: body(routingPolicySchema) },
    responses: { 200: jsonResponse(Model, "the model under its new policy"), ...noModel, ...errorResponses },
  },
  {
    method: "post",
    path: "/{name}/canary/step",
    summary: "Move the canary to its next share (operator)",
    request: named,
    responses: {
      200: jsonResponse(Model, "the model"),
      409: jsonResponse(ErrorBody, "no canary"),
      ...noModel,
      ...errorResponses,
    },
  },
  {
    method: "post",
    path: "/{name}/promote",
    summary: "Make a version the champion, served alone (operator)",
    request: { ...named, body: body(z.object({ version: z.string().regex(/^\d{1,9}$/), reason })) },
    responses: { 200: jsonResponse(Model, "the model"), ...noModel, ...errorResponses },
  },
  {
    method: "post",
    path: "/{name}/rollback",
    summary: "Serve the champion before this one, alone (operator)",
    request: { ...named, body: body(z.object({ reason })) },
    responses: { 200: jsonResponse(Model, "the model"), ...noModel, ...errorResponses },
  },
  {
    method: "post",
    path: "/{name}/retrain",
    summary: "Start the retraining loop now, one run at a time (operator)",
    request: { ...named, body: body(z.object({ reason })) },
    responses: {
      202: jsonResponse(z.object({ started: z.literal(true) }), "started"),
      409: jsonResponse(z.object({ started: z.literal(false) }), "a run is already in flight"),
      ...noModel,
      ...errorResponses,
    },
  },
];
