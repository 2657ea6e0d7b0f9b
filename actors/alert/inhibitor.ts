import { matchesAll } from "../../alerting/label-matchers.ts";
import type { Alert } from "../../messages/alert.ts";
import type { InhibitRule } from "./route-tree.ts";

/**
 * Alertmanager's inhibition: a target alert is muted while a firing source alert exists that
 * matches a rule's source matchers, the target matches its target matchers, and both carry the
 * same values for the rule's `equal` labels (a missing label counts as ""). An alert never
 * inhibits itself, so an alert that matches both sides of a rule stays unmuted by itself.
 */
export function inhibitedBy(
  rules: readonly InhibitRule[],
  target: Alert,
  firing: readonly Alert[],
): string | undefined {
  for (const rule of rules) {
    if (!matchesAll(rule.target_matchers, target.labels)) continue;
    for (const source of firing) {
      if (source.fingerprint === target.fingerprint || source.status !== "firing") continue;
      if (!matchesAll(rule.source_matchers, source.labels)) continue;
      if (rule.equal.every((name) => (source.labels[name] ?? "") === (target.labels[name] ?? "")))
        return source.fingerprint;
    }
  }
  return undefined;
}
