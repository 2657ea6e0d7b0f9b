import { OpenAPIHono, z } from "@hono/zod-openapi";
import type { Context } from "hono";
import { DriftReport } from "../messages/drift-report.ts";
import { ErrorCodes } from "../messages/errors.ts";
import { Prediction } from "../messages/prediction.ts";
import { ProcessedReading } from "../messages/processed-reading.ts";
import { SENSOR_TYPES, type SensorType } from "../messages/sensor-reading.ts";
import { WindowResult } from "../messages/window-result.ts";
import { qualityRulesAsJson } from "../stream/quality/quality-rules-json.ts";
import type { AppDeps } from "./app.ts";
import type { GatewayEnv } from "./gateway/gateway.ts";
import {
  documented,
  ErrorBody,
  errorResponses,
  jsonResponse,
  listResponse,
  PageShape,
  pageQuery,
  shapeQuery,
} from "./openapi.ts";
import { pageOf, pageRequestOf } from "./pagination.ts";
import { shapedList } from "./response-shape.ts";

/**
 * The read model over REST, mounted at /api/v1 (and at /api, the unversioned alias kept for one
 * release). Every list pages with `?limit=&offset=`; the tabular ones also shape (`fields=`, CSV).
 */
const errorBody = (code: string, message: string) => ({ error: { code, message } });
/** echo at most this much of a caller's text in an error message */
export const echo = (text: string) => (text.length > 100 ? `${text.slice(0, 100)}...` : text);

const SensorSummary = z
  .object({
    sensor_id: z.string(),
    type: z.enum(SENSOR_TYPES),
    readings: z.number().int(),
    last_event_time: z.number(),
    quality_score: z.number(),
    anomaly_score: z.number(),
  })
  .openapi("SensorSummary");
const AlertItem = z
  .looseObject({ rule: z.string().optional(), status: z.string().optional() })
  .openapi("Alert");
const idParam = z.object({ id: z.string().openapi({ example: "traffic_3" }) });

function sensorTypeParam(raw: string | undefined): SensorType | undefined | Error {
  if (raw === undefined) return undefined;
  return (SENSOR_TYPES as readonly string[]).includes(raw)
    ? (raw as SensorType)
    : new Error(`type must be one of ${SENSOR_TYPES.join(", ")}, got '${echo(raw)}'`);
}

export function readRoutes(deps: AppDeps): OpenAPIHono<GatewayEnv> {
  const app = new OpenAPIHono<GatewayEnv>();
  const badRequest = (c: Context, message: string) => c.json(errorBody(ErrorCodes.BAD_REQUEST, message), 400);
  const query = (c: Context) => (name: string) => c.req.query(name);

  documented(
    app,
    {
      method: "get",
      path: "/sensors",
      summary: "Sensors seen by this node",
      request: { query: z.object({ type: z.enum(SENSOR_TYPES).optional(), ...pageQuery, ...shapeQuery }) },
      responses: { 200: listResponse("sensors", SensorSummary, "a page of sensors"), ...errorResponses },
    },
    (c) => {
      const type = sensorTypeParam(c.req.query("type"));
      if (type instanceof Error) return badRequest(c, type.message);
      const page = pageRequestOf(query(c), 100);
      if (page instanceof Error) return badRequest(c, page.message);
      const { items, page: shape } = pageOf(deps.view.sensorList(type), page);
      return shapedList(c, "sensors", items, shape);
    },
  );

  documented(
    app,
    {
      method: "get",
      path: "/sensors/{id}",
      summary: "One sensor and its latest reading",
      request: { params: idParam },
      responses: {
        200: jsonResponse(
          z.object({ sensor: SensorSummary, latest: ProcessedReading.optional() }),
          "the sensor",
        ),
        404: jsonResponse(ErrorBody, "not seen on this node (the owner is named when another node has it)"),
        ...errorResponses,
      },
    },
    (c) => {
      const id = c.req.param("id")!;
      const summary = deps.view.sensor(id);
      if (!summary) {
        // another node of the application may own it: say which
        const owner = deps.ownership?.ownerOfKey(id);
        const elsewhere = owner && !owner.local ? { owner } : {};
        return c.json(
          { ...errorBody(ErrorCodes.NOT_FOUND, `no sensor '${echo(id)}' seen on this node`), ...elsewhere },
          404,
        );
      }
      return c.json({ sensor: summary, latest: deps.view.latestReading(id) });
    },
  );

  documented(
    app,
    {
      method: "get",
      path: "/sensors/{id}/readings/latest",
      summary: "A sensor's latest processed reading",
      request: { params: idParam },
      responses: {
        200: jsonResponse(z.object({ reading: ProcessedReading }), "the reading"),
        404: jsonResponse(ErrorBody, "no reading yet"),
        ...errorResponses,
      },
    },
    (c) => {
      const id = c.req.param("id")!;
      const reading = deps.view.latestReading(id);
      if (!reading) return c.json(errorBody(ErrorCodes.NOT_FOUND, `no reading for '${echo(id)}'`), 404);
      return c.json({ reading });
    },
  );

  documented(
    app,
    {
      method: "get",
      path: "/sensors/{id}/windows",
      summary: "A sensor's recent windows",
      request: { params: idParam, query: z.object({ ...pageQuery, ...shapeQuery }) },
      responses: { 200: listResponse("windows", WindowResult, "a page of windows"), ...errorResponses },
    },
    (c) => {
      const page = pageRequestOf(query(c), 60);
      if (page instanceof Error) return badRequest(c, page.message);
      const { items, page: shape } = pageOf(deps.view.sensorWindows(c.req.param("id")!), page);
      return shapedList(c, "windows", items, shape);
    },
  );

  documented(
    app,
    {
      method: "get",
      path: "/windows/{type}",
      summary: "Recent windows of one sensor type (all sensors merged)",
      request: {
        params: z.object({ type: z.string().openapi({ example: "traffic" }) }),
        query: z.object({ ...pageQuery, ...shapeQuery }),
      },
      responses: { 200: listResponse("windows", WindowResult, "a page of windows"), ...errorResponses },
    },
    (c) => {
      const type = sensorTypeParam(c.req.param("type"));
      if (type instanceof Error || type === undefined)
        return badRequest(c, type instanceof Error ? type.message : "type is required");
      const page = pageRequestOf(query(c), 60);
      if (page instanceof Error) return badRequest(c, page.message);
      const { items, page: shape } = pageOf(deps.view.typeWindows(type), page);
      return shapedList(c, "windows", items, shape);
    },
  );

  documented(
    app,
    {
      method: "get",
      path: "/predictions",
      summary: "Recent model predictions",
      request: { query: z.object({ key: z.string().optional(), ...pageQuery, ...shapeQuery }) },
      responses: { 200: listResponse("predictions", Prediction, "a page of predictions"), ...errorResponses },
    },
    (c) => {
      const page = pageRequestOf(query(c), 100);
      if (page instanceof Error) return badRequest(c, page.message);
      const all = deps.view.recentPredictions(Number.MAX_SAFE_INTEGER, c.req.query("key"));
      const { items, page: shape } = pageOf(all, page);
      return shapedList(c, "predictions", items, shape);
    },
  );

  documented(
    app,
    {
      method: "get",
      path: "/drift",
      summary: "Drift reports of the models",
      request: { query: z.object({ ...pageQuery, ...shapeQuery }) },
      responses: { 200: listResponse("drift", DriftReport, "a page of drift reports"), ...errorResponses },
    },
    (c) => {
      const page = pageRequestOf(query(c), 100);
      if (page instanceof Error) return badRequest(c, page.message);
      const { items, page: shape } = pageOf(deps.view.driftReports(), page);
      return shapedList(c, "drift", items, shape);
    },
  );

  documented(
    app,
    {
      method: "get",
      path: "/alerts",
      summary: "Recent alerts",
      request: { query: z.object({ ...pageQuery, ...shapeQuery }) },
      responses: { 200: listResponse("alerts", AlertItem, "a page of alerts"), ...errorResponses },
    },
    (c) => {
      const page = pageRequestOf(query(c), 100);
      if (page instanceof Error) return badRequest(c, page.message);
      const { items, page: shape } = pageOf(deps.view.recentAlerts(Number.MAX_SAFE_INTEGER), page);
      return shapedList(c, "alerts", items, shape);
    },
  );

  documented(
    app,
    {
      method: "get",
      path: "/quality",
      summary: "Data quality by window, type and sensor",
      request: { query: z.object(pageQuery) },
      responses: {
        200: jsonResponse(z.looseObject({ formula: z.string(), page: PageShape }), "the quality report"),
        ...errorResponses,
      },
    },
    (c) => {
      const page = pageRequestOf(query(c), 100);
      if (page instanceof Error) return badRequest(c, page.message);
      const quality = deps.view.quality;
      const windows = quality.windowStarts().slice(-10);
      const sensors = pageOf(deps.view.sensorList(), page);
      return c.json({
        formula: "0.4 validity + 0.3 completeness + 0.2 timeliness + 0.1 uniqueness",
        byWindow: windows.map((start) => ({
          window_start: start,
          overall: quality.window(start),
          byType: Object.fromEntries(SENSOR_TYPES.map((type) => [type, quality.type(type, start)])),
        })),
        bySensor: sensors.items.map((s) => ({
          sensor_id: s.sensor_id,
          type: s.type,
          latest: quality.sensor(s.sensor_id),
        })),
        page: sensors.page,
        ruleCounts: quality.ruleCounts(),
        rules: qualityRulesAsJson(),
      });
    },
  );

  documented(
    app,
    {
      method: "get",
      path: "/owners",
      summary: "Which node owns each partition",
      responses: {
        200: jsonResponse(z.object({ owners: z.array(z.unknown()) }), "the owners"),
        ...errorResponses,
      },
    },
    (c) => c.json({ owners: deps.ownership?.owners() ?? [] }),
  );

  documented(
    app,
    {
      method: "get",
      path: "/owner/{key}",
      summary: "Which node owns a key",
      request: { params: z.object({ key: z.string() }) },
      responses: {
        200: jsonResponse(z.looseObject({ key: z.string(), partition: z.number().int() }), "the owner"),
        404: jsonResponse(ErrorBody, "no ownership information"),
        ...errorResponses,
      },
    },
    (c) => {
      if (!deps.ownership) return c.json(errorBody(ErrorCodes.NOT_FOUND, "no ownership information"), 404);
      const key = c.req.param("key")!;
      return c.json({ key, ...deps.ownership.ownerOfKey(key) });
    },
  );

  documented(
    app,
    {
      method: "get",
      path: "/supervision",
      summary: "The supervision tree of the node (operator)",
      responses: { 200: jsonResponse(z.object({ tree: z.unknown() }), "the tree"), ...errorResponses },
    },
    (c) => c.json({ tree: deps.supervisionTree() }),
  );

  return app;
}
