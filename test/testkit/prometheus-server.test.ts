import { afterEach, describe, expect, test } from "bun:test";
import { existsSync } from "node:fs";
import { freePort } from "../../testkit/free-port.ts";
import { PROMETHEUS_PATH, type PrometheusServer, startPrometheus } from "../../testkit/prometheus-server.ts";
import { type PortSquatter, squatPort } from "./port-squatter.ts";

const skip = process.env.SKIP_INFRA_TESTS === "1" || !existsSync(PROMETHEUS_PATH);

describe.skipIf(skip)("a Prometheus of a test's own", () => {
  const servers: PrometheusServer[] = [];
  const squatters: PortSquatter[] = [];
  afterEach(async () => {
    for (const server of servers.splice(0)) await server.stop();
    for (const squatter of squatters.splice(0)) await squatter.release();
  });

  // regression: freePort() answers a port another process may bind before Prometheus does
  // ("bind: address already in use", and Prometheus exits)
  test("starts on another port when the port it chose is taken before it binds", async () => {
    const squatter = await squatPort(0);
    squatters.push(squatter);

    const prometheus = await startPrometheus({ targets: [], choosePort: squatter.choosePort });
    servers.push(prometheus);

    expect(squatter.handedOut()).toBe(2);
    expect(prometheus.url).not.toContain(`:${squatter.port}`);
    expect(await prometheus.query("1")).toMatchObject({ ok: true });
  });

  test("is not fooled by another Prometheus already answering on the port it chose", async () => {
    const other = await startPrometheus({ targets: [] });
    servers.push(other);
    const otherPort = Number(new URL(other.url).port);
    let handed = 0;
    const choosePort = async () => (handed++ === 0 ? otherPort : freePort());

    const prometheus = await startPrometheus({ targets: [], choosePort });
    servers.push(prometheus);

    expect(prometheus.url).not.toBe(other.url);
  });
});
