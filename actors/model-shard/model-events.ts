/**
 * Every step of a model's life as an event: the `models` WebSocket feed, the audit trail and the
 * drill print them. One flat shape, so a consumer filters by `type` and reads the rest.
 */
export type ModelEventType =
  | "deployed"
  | "policy-changed"
  | "retrain-triggered"
  | "retrain-skipped"
  | "trained"
  | "registered"
  | "shadow-started"
  | "canary-stepped"
  | "promoted"
  | "rolled-back"
  | "retrain-failed"
  | "error-drift"
  | "ab-decided"
  /** the model has no version to serve yet (first start): what it waits for */
  | "no-champion";

export interface ModelEvent {
  readonly type: ModelEventType;
  readonly model: string;
  readonly version?: string;
  readonly previous?: string;
  readonly by: string;
  readonly reason: string;
  readonly at: number;
  readonly details?: Readonly<Record<string, unknown>>;
}
