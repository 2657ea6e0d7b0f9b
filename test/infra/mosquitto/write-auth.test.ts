import { expect, test } from "bun:test";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

/** the command infra/up.sh runs before Mosquitto starts: its environment in, Mosquitto's files out */
const script = join(import.meta.dir, "..", "..", "..", "infra", "mosquitto", "write-auth.ts");
const skip = Bun.which("mosquitto_passwd") === null;

test.skipIf(skip)("writes the listeners, both password files and both ACLs from the environment", () => {
  const dir = mkdtempSync(join(tmpdir(), "write-auth-"));
  try {
    const devices = join(dir, "devices.txt");
    writeFileSync(devices, "# the city's sensors\ntraffic_1\n\nair_2  # on the roof\n");
    const run = Bun.spawnSync(["bun", script, join(dir, "conf.d")], {
      env: {
        ...process.env,
        MQTT_DEVICE_SECRET: "write-auth-secret-0123456789",
        MQTT_DEVICES_FILE: devices,
        MQTT_APPLICATIONS: "app-a,app-b",
        MQTT_AUTH_DEVICE_PORT: "2884",
      },
      stdout: "pipe",
      stderr: "pipe",
    });
    expect(run.exitCode).toBe(0);
    const file = (name: string) => readFileSync(join(dir, "conf.d", name), "utf8");
    expect(file("auth.conf")).toContain("listener 2884 127.0.0.1");
    expect(file("auth.conf")).toContain("listener 1885 127.0.0.1");
    expect(
      file("passwd-devices")
        .split("\n")
        .filter(Boolean)
        .map((l) => l.split(":")[0]),
    ).toEqual(["traffic_1", "air_2"]);
    expect(file("passwd-services")).toContain("ingest@app-a:$7$");
    expect(file("passwd-services")).toContain("gateway@simulator:$7$");
    expect(file("acl-services")).toContain("user ingest@app-b");
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("refuses to run without a secret of 16 characters or more", () => {
  const run = Bun.spawnSync(["bun", script, tmpdir()], {
    env: { ...process.env, MQTT_DEVICE_SECRET: "short" },
    stderr: "pipe",
  });
  expect(run.exitCode).toBe(2);
  expect(run.stderr.toString()).not.toContain("short");
});
