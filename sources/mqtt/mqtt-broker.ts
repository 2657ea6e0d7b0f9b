/**
 * The MQTT broker port. The platform needs a broker only so that sensors and the ingest side
 * can meet; which one is configuration:
 * - `aedes-broker.ts`: in-process aedes over plain TCP on 127.0.0.1 (the zero-setup default);
 * - `external-broker.ts`: a broker that already runs (Mosquitto, EMQX ...) named by `MQTT_URL`;
 *   nothing is started or stopped.
 * Both pass the contract suite in `test/sources/mqtt/mqtt-broker.contract.ts`.
 */
export interface MqttBroker {
  /** for logs and the API: "aedes", "external" */
  readonly name: string;
  /** idempotent; resolves when clients can connect */
  start(): Promise<void>;
  /** idempotent; disconnects the clients of an embedded broker and frees its port */
  stop(): Promise<void>;
  /**
   * Embedded brokers only, before a graceful stop: refuse new connections, disconnect every
   * client but `clientId` (so nobody publishes any more), and wait up to `timeoutMs` until
   * `clientId` has acknowledged everything queued for it. The broker dies with the node; the QoS 1
   * readings it holds were not acknowledged to their devices (aedes-ack-chain.ts), which resend
   * them, so draining spares resends and keeps QoS 0. Answers how many are still unacknowledged.
   */
  drain?(clientId: string, timeoutMs: number): Promise<number>;
  /** `mqtt://host:port`; throws CONFIG_INVALID before `start()` for an embedded broker */
  url(): string;
}
