import type { AedesOptions, AuthenticateError, Client } from "aedes";
import { createMqttAccessPolicy, type MqttAccessOptions, type MqttPrincipal } from "./mqtt-access-policy.ts";

/**
 * The access policy as aedes hooks. The principal admitted at CONNECT is kept per client and
 * judges every PUBLISH (a refused one closes the connection: MQTT 3.1.1 has no negative PUBACK)
 * and every SUBSCRIBE (a refused filter is granted 0x80, the others stand).
 * aedes runs `authenticate` before it closes an older client with the same id, so a refused
 * takeover leaves the running session alone.
 */
export function installAccessHooks(options: MqttAccessOptions): AedesOptions {
  const policy = createMqttAccessPolicy(options);
  const principals = new WeakMap<Client, MqttPrincipal>();
  return {
    authenticate(client, username, password, done) {
      const admission = policy.admit(client.id ?? "", username, password);
      if (admission.ok) {
        principals.set(client, admission.principal);
        done(null, true);
        return;
      }
      const error = new Error(admission.reason) as AuthenticateError;
      error.returnCode = admission.refusal as AuthenticateError["returnCode"];
      done(error, false);
    },
    authorizePublish(client, packet, done) {
      // client null: the broker's own publishes ($SYS, wills it delivers)
      if (client === null) return done(null);
      const principal = principals.get(client);
      if (principal && policy.mayPublish(principal, packet.topic)) return done(null);
      done(new Error(`publish to ${packet.topic.slice(0, 128)} not authorized`));
    },
    authorizeSubscribe(client, subscription, done) {
      const principal = principals.get(client);
      if (principal && policy.maySubscribe(principal, subscription.topic)) return done(null, subscription);
      done(null, null);
    },
  };
}
