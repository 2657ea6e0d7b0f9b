import { z } from "zod";
import { type CompiledMatcher, Matchers, matchesAll } from "../../alerting/label-matchers.ts";
import type { Alert } from "../../messages/alert.ts";
import { ErrorCodes, PlatformError } from "../../messages/errors.ts";
import { Duration } from "./durations.ts";

/**
 * Alertmanager's routing tree (`route:` of alertmanager.yml): an alert enters at the root and
 * walks down depth-first; the first child whose matchers all match takes it, unless that child
 * says `continue`, in which case the next matching siblings take it too. A node with no
 * matching child takes the alert itself. Settings not given are inherited from the parent
 * (receiver, group_by, the three timings). `group_by: ["..."]` groups by every label.
 *
 * Receivers name the node's channels (websocket, file, webhook, email, sms) that get the
 * group's notifications; inhibit rules mute the alerts a firing source alert explains.
 */
export interface RouteSettings {
  readonly receiver: string;
  /** undefined: group by every label (`...`) */
  readonly groupBy: readonly string[] | undefined;
  readonly groupWaitMs: number;
  readonly groupIntervalMs: number;
  readonly repeatIntervalMs: number;
}

export interface Route extends RouteSettings {
  /** the node's path in the tree, e.g. `0.1`: part of every group key */
  readonly id: string;
  readonly matchers: readonly CompiledMatcher[];
  readonly continue: boolean;
  readonly routes: readonly Route[];
}

interface RouteInput {
  receiver?: string | undefined;
  group_by?: string[] | undefined;
  group_wait?: number | undefined;
  group_interval?: number | undefined;
  repeat_interval?: number | undefined;
  matchers: CompiledMatcher[];
  continue: boolean;
  routes: RouteInput[];
}

const RouteSchema: z.ZodType<RouteInput, unknown> = z.lazy(() =>
  z.object({
    receiver: z.string().min(1).optional(),
    group_by: z.array(z.string().min(1)).max(50).optional(),
    group_wait: Duration.optional(),
    group_interval: Duration.optional(),
    repeat_interval: Duration.optional(),
    matchers: Matchers.default([]),
    continue: z.boolean().default(false),
    routes: z.array(RouteSchema).max(100).default([]),
  }),
);

export const AlertChannelName = z.enum(["websocket", "file", "webhook", "email", "sms"]);
export type AlertChannelName = z.infer<typeof AlertChannelName>;

const InhibitRuleSchema = z.object({
  source_matchers: Matchers,
  target_matchers: Matchers,
  equal: z.array(z.string().min(1)).default([]),
});
export type InhibitRule = z.infer<typeof InhibitRuleSchema>;

export const AlertRoutingSchema = z.object({
  route: RouteSchema,
  receivers: z
    .array(z.object({ name: z.string().min(1), channels: z.array(AlertChannelName).default([]) }))
    .min(1),
  inhibit_rules: z.array(InhibitRuleSchema).default([]),
});

export interface AlertRouting {
  readonly root: Route;
  readonly receivers: ReadonlyMap<string, readonly AlertChannelName[]>;
  readonly inhibitRules: readonly InhibitRule[];
}

/** Alertmanager's defaults for the root route */
const ROOT_DEFAULTS: RouteSettings = {
  receiver: "",
  groupBy: [],
  groupWaitMs: 30_000,
  groupIntervalMs: 300_000,
  repeatIntervalMs: 4 * 3_600_000,
};

export function parseAlertRouting(input: unknown): AlertRouting {
  const parsed = AlertRoutingSchema.safeParse(input);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new PlatformError(
      ErrorCodes.CONFIG_INVALID,
      `alert routes: ${issue?.path.join(".") ?? ""} ${issue?.message ?? "invalid"}`,
      { cause: parsed.error },
    );
  }
  const { route, receivers, inhibit_rules } = parsed.data;
  const receiverMap = new Map(receivers.map((r) => [r.name, r.channels] as const));
  const build = (input: RouteInput, parent: RouteSettings, id: string): Route => {
    const receiver = input.receiver ?? parent.receiver;
    if (!receiverMap.has(receiver))
      throw new PlatformError(
        ErrorCodes.CONFIG_INVALID,
        `alert routes: route ${id} names receiver '${receiver}', which is not defined`,
      );
    const groupBy = input.group_by?.includes("...") ? undefined : (input.group_by ?? parent.groupBy);
    const settings: RouteSettings = {
      receiver,
      groupBy,
      groupWaitMs: input.group_wait ?? parent.groupWaitMs,
      groupIntervalMs: input.group_interval ?? parent.groupIntervalMs,
      repeatIntervalMs: input.repeat_interval ?? parent.repeatIntervalMs,
    };
    return {
      ...settings,
      id,
      matchers: input.matchers,
      continue: input.continue,
      routes: input.routes.map((child, i) => build(child, settings, `${id}.${i}`)),
    };
  };
  if (route.matchers.length > 0)
    throw new PlatformError(
      ErrorCodes.CONFIG_INVALID,
      "alert routes: the root route matches every alert; give it no matchers",
    );
  return { root: build(route, ROOT_DEFAULTS, "0"), receivers: receiverMap, inhibitRules: inhibit_rules };
}

/** the routes that take an alert, in tree order (Alertmanager's Route.Match) */
export function matchRoutes(route: Route, labels: Readonly<Record<string, string>>): Route[] {
  if (!matchesAll(route.matchers, labels)) return [];
  const taken: Route[] = [];
  for (const child of route.routes) {
    const matches = matchRoutes(child, labels);
    taken.push(...matches);
    if (matches.length > 0 && !child.continue) break;
  }
  return taken.length > 0 ? taken : [route];
}

/** the labels an alert is grouped by on a route */
export function groupLabelsOf(route: Route, alert: Alert): Record<string, string> {
  if (route.groupBy === undefined) return { ...alert.labels };
  const labels: Record<string, string> = {};
  for (const name of route.groupBy) {
    const value = alert.labels[name];
    if (value !== undefined) labels[name] = value;
  }
  return labels;
}

/**
 * The routing a node starts with when ALERT_ROUTES_FILE is not set: everything to the feed and
 * the file; critical alerts also page (webhook, email, sms, whichever are configured: a receiver
 * lists channels, and a channel that is not configured is skipped). Critical alerts of a node
 * inhibit the warnings of the same alert name there; a crashed worker explains its node's lag,
 * stalled sinks and volume drop.
 */
export const DEFAULT_ALERT_ROUTING_INPUT = {
  route: {
    receiver: "default",
    group_by: ["alertname", "node"],
    group_wait: "10s",
    group_interval: "1m",
    repeat_interval: "4h",
    routes: [{ matchers: ['severity="critical"'], receiver: "page", group_wait: "5s" }],
  },
  receivers: [
    { name: "default", channels: ["websocket", "file", "webhook"] },
    { name: "page", channels: ["websocket", "file", "webhook", "email", "sms"] },
  ],
  inhibit_rules: [
    {
      source_matchers: ['severity="critical"'],
      target_matchers: ['severity="warning"'],
      equal: ["alertname", "node"],
    },
    {
      source_matchers: ['alertname="worker-crashed"'],
      target_matchers: ['alertname=~"consumer-lag|sink-stalled|volume-drop|source-stale"'],
      equal: ["node"],
    },
  ],
};

export const DEFAULT_ALERT_ROUTING: AlertRouting = parseAlertRouting(DEFAULT_ALERT_ROUTING_INPUT);
