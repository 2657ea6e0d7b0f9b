import type { SupervisionDecision, SupervisorSpec } from "../actor.ts";
import { backoffDelay } from "./backoff.ts";
import type { RestartIntensity } from "./restart-intensity.ts";
import type { SupervisedChild } from "./supervised-child.ts";

export interface Verdict {
  readonly decision: Exclude<SupervisionDecision, "ignore">;
  readonly delayMs: number;
  /** the child's lifetime restarts, this one included */
  readonly restarts: number;
  /** set when the restart intensity was exceeded */
  readonly exceeded: boolean;
}

/**
 * The OTP rules for one terminated child, shared by every strategy (OTP Design Principles,
 * "Supervisor Behaviour"): a permanent child is always restarted, a transient one only after a
 * failure, a temporary one never. A restart counts against the restart intensity: past it the
 * supervisor escalates ("supervisor" scope) or stops just that child ("child" scope). Restarts
 * wait an exponential back-off that grows with the child's recent restarts.
 */
export function decide(
  spec: SupervisorSpec,
  defaultScope: "supervisor" | "child",
  child: SupervisedChild,
  failed: boolean,
  supervisorLog: RestartIntensity,
  now: number,
  random: () => number,
): Verdict {
  const restartWanted = child.restartType === "permanent" || (child.restartType === "transient" && failed);
  const childLog = child.restartLog(spec);
  if (!restartWanted) return { decision: "stop", delayMs: 0, restarts: childLog.total, exceeded: false };
  const childRecent = childLog.record(now);
  const scope = spec.intensityScope ?? defaultScope;
  const recent = scope === "child" ? childRecent : supervisorLog.record(now);
  if (recent > spec.intensity) {
    return {
      decision: scope === "child" ? "stop" : "escalate",
      delayMs: 0,
      restarts: childLog.total,
      exceeded: true,
    };
  }
  return {
    decision: "restart",
    delayMs: backoffDelay(spec.backoff, childRecent - 1, random),
    restarts: childLog.total,
    exceeded: false,
  };
}
