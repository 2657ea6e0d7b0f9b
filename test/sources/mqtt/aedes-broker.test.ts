import { createAedesBroker } from "../../../sources/mqtt/aedes-broker.ts";
import { createAedesWorkerBroker } from "../../../sources/mqtt/aedes-worker-broker.ts";
import { createExternalBroker } from "../../../sources/mqtt/external-broker.ts";
import { mqttBrokerContract } from "./mqtt-broker.contract.ts";

mqttBrokerContract("aedes (embedded, 127.0.0.1, port 0)", () => createAedesBroker());

const mosquitto = process.env.MOSQUITTO_URL;
if (mosquitto)
  mqttBrokerContract(`external at MOSQUITTO_URL`, () => createExternalBroker(mosquitto), { owned: false });

mqttBrokerContract("aedes on its own worker thread (the node's default)", () => createAedesWorkerBroker());
