import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Subprocess } from "bun";
import { type ChoosePort, PortTakenError, saysPortTaken, startOnFreePorts } from "./free-port.ts";
import { portOpen } from "./kafka-broker.ts";

/**
 * A Kafka broker of the test's own with SCRAM users and TLS, so the SASL/SCRAM and TLS options of
 * the log are tested against the real server without touching the shared broker on 9092: the
 * jars `infra/up.sh` fetched, infra/kafka/server.properties as it is (PLAINTEXT, and SASL_SSL with
 * SCRAM-SHA-256/512) on free ports plus a SASL_PLAINTEXT listener, its own data dir, the SCRAM
 * users created at format time (`kafka-storage format --add-scram`) or afterwards as infra/up.sh
 * does, and a CA and broker certificate made with openssl for this run (PEM key store, CN and SAN
 * 127.0.0.1 / localhost).
 */
export interface ScramUser {
  readonly username: string;
  readonly password: string;
  readonly mechanism: "SCRAM-SHA-256" | "SCRAM-SHA-512";
}

export interface ScramBroker {
  /** host:port of the SASL_PLAINTEXT listener */
  readonly saslPlaintext: string;
  /** host:port of the SASL_SSL listener */
  readonly saslSsl: string;
  /** PEM of the CA that signed the broker's certificate */
  readonly caPem: string;
  /** a PEM CA that did not sign it */
  readonly strangerCaPem: string;
  output(): string;
  stop(): Promise<void>;
}

const REPO = join(import.meta.dir, "..");
const KAFKA_VERSION = process.env.KAFKA_VERSION ?? "4.1.1";
const LIB = join(REPO, "infra", ".cache", "kafka", KAFKA_VERSION, "lib");

/** the jars are there (after one `bun run infra:up kafka`) and Java and openssl run */
export function scramBrokerAvailable(): boolean {
  return existsSync(join(LIB, ".complete")) && Bun.which("java") !== null && Bun.which("openssl") !== null;
}

/**
 * A free port may be taken before the broker binds it ("Socket server failed to bind ...: Address
 * already in use", and the broker exits): then the broker is made again on new ports (the ports
 * are in its formatted metadata, so a new data dir too).
 */
export async function startScramBroker(
  users: readonly ScramUser[],
  /** added after the start the way infra/up.sh adds its user (ConfigCommand over PLAINTEXT) */
  laterUser?: ScramUser,
  /** where its four ports come from; default a port the OS calls free (a test may hand out a taken one) */
  choosePort?: ChoosePort,
): Promise<ScramBroker> {
  return startOnFreePorts(4, (ports) => startOnPorts(users, laterUser, ports), { choosePort });
}

async function startOnPorts(
  users: readonly ScramUser[],
  laterUser: ScramUser | undefined,
  ports: number[],
): Promise<ScramBroker> {
  const dir = mkdtempSync(join(tmpdir(), "kafka-scram-"));
  const [plaintext, controller, ssl, saslPlain] = ports as [number, number, number, number];
  const tls = await makeCertificates(join(dir, "tls"));
  // inter-broker traffic stays on PLAINTEXT: the SCRAM listeners need no login of their own
  const jaas = "org.apache.kafka.common.security.scram.ScramLoginModule required;";
  // infra's own file (its SASL_SSL listener as it is), on this run's ports and directories, plus a
  // SASL_PLAINTEXT listener to test SCRAM without TLS
  const properties = readFileSync(join(REPO, "infra", "kafka", "server.properties"), "utf8")
    .replaceAll("127.0.0.1:9092", `127.0.0.1:${plaintext}`)
    .replaceAll("127.0.0.1:9093", `127.0.0.1:${controller}`)
    .replaceAll("127.0.0.1:9094", `127.0.0.1:${ssl}`)
    .replaceAll("@DATA_DIR@", join(dir, "data"))
    .replaceAll("@TLS_DIR@", join(dir, "tls"))
    .replace(/^(listeners=.*)$/m, `$1,SASL_PLAINTEXT://127.0.0.1:${saslPlain}`)
    .replace(/^(advertised\.listeners=.*)$/m, `$1,SASL_PLAINTEXT://127.0.0.1:${saslPlain}`)
    .replace(/^(listener\.security\.protocol\.map=.*)$/m, "$1,SASL_PLAINTEXT:SASL_PLAINTEXT")
    .concat(
      ["scram-sha-256", "scram-sha-512"]
        .map((mechanism) => `listener.name.sasl_plaintext.${mechanism}.sasl.jaas.config=${jaas}\n`)
        .join(""),
    );
  const config = join(dir, "server.properties");
  writeFileSync(config, properties);
  const java = [
    "java",
    "-Xms128m",
    "-Xmx256m",
    "-XX:+UseSerialGC",
    "-XX:TieredStopAtLevel=1",
    "-Djava.awt.headless=true",
    `-Dlog4j2.configurationFile=${join(REPO, "infra", "kafka", "log4j2.properties")}`,
    "-cp",
    `${LIB}/*`,
  ];
  const clusterId = Buffer.from(crypto.getRandomValues(new Uint8Array(16)))
    .toString("base64url")
    .replace(/^-/, "A");
  const scram = users.flatMap((u) => [
    "--add-scram",
    `${u.mechanism}=[name=${u.username},password=${u.password}]`,
  ]);
  const format = Bun.spawnSync(
    [...java, "kafka.tools.StorageTool", "format", "-t", clusterId, "-c", config, "--standalone", ...scram],
    { stdout: "pipe", stderr: "pipe" },
  );
  if (format.exitCode !== 0) {
    rmSync(dir, { recursive: true, force: true });
    throw new Error(`formatting the SCRAM broker failed:\n${format.stdout}\n${format.stderr}`);
  }
  const proc: Subprocess<"ignore", "pipe", "pipe"> = Bun.spawn([...java, "kafka.Kafka", config], {
    stdin: "ignore",
    stdout: "pipe",
    stderr: "pipe",
  });
  let text = "";
  const collect = async (stream: ReadableStream<Uint8Array>) => {
    const decoder = new TextDecoder();
    for await (const chunk of stream) text = (text + decoder.decode(chunk, { stream: true })).slice(-200_000);
  };
  const collecting = Promise.all([collect(proc.stdout), collect(proc.stderr)]);
  const stop = async () => {
    proc.kill("SIGTERM");
    const timer = setTimeout(() => proc.kill("SIGKILL"), 20_000);
    await proc.exited;
    clearTimeout(timer);
    await collecting;
    rmSync(dir, { recursive: true, force: true });
  };
  const deadline = Date.now() + 90_000;
  while (
    !(await portOpen("127.0.0.1", saslPlain)) ||
    !/Kafka Server started|\] Kafka Server started/.test(text)
  ) {
    if (proc.exitCode !== null || Date.now() > deadline) {
      await stop();
      const message = `the SCRAM broker did not start:\n${text.slice(-4000)}`;
      throw saysPortTaken(text) ? new PortTakenError(message) : new Error(message);
    }
    await Bun.sleep(200);
  }
  if (laterUser) {
    // the very script infra/up.sh runs (both mechanisms, whatever laterUser.mechanism says)
    const passwordFile = join(dir, "later-user.password");
    writeFileSync(passwordFile, laterUser.password, { mode: 0o600 });
    const added = Bun.spawnSync(
      [
        "bash",
        join(REPO, "infra", "kafka", "add-scram-user.sh"),
        ...[`127.0.0.1:${plaintext}`, laterUser.username, passwordFile, LIB],
      ],
      { stdout: "pipe", stderr: "pipe" },
    );
    if (added.exitCode !== 0) {
      await stop();
      throw new Error(
        `add-scram-user.sh could not add ${laterUser.username}:\n${added.stdout}\n${added.stderr}`,
      );
    }
  }
  return {
    saslPlaintext: `127.0.0.1:${saslPlain}`,
    saslSsl: `127.0.0.1:${ssl}`,
    caPem: tls.caPem,
    strangerCaPem: tls.strangerCaPem,
    output: () => text,
    stop,
  };
}

async function makeCertificates(dir: string) {
  mkdirSync(dir, { recursive: true });
  const run = (args: string[]) => {
    const result = Bun.spawnSync(["openssl", ...args], { cwd: dir, stdout: "pipe", stderr: "pipe" });
    if (result.exitCode !== 0) throw new Error(`openssl ${args[0]} failed: ${result.stderr}`);
  };
  for (const ca of ["ca", "stranger-ca"])
    run([
      "req",
      "-x509",
      "-newkey",
      "rsa:2048",
      "-nodes",
      "-days",
      "2",
      "-keyout",
      `${ca}.key`,
      "-out",
      `${ca}.pem`,
      "-subj",
      `/CN=test ${ca}`,
    ]);
  writeFileSync(join(dir, "san.ext"), "subjectAltName=IP:127.0.0.1,DNS:localhost\n");
  run([
    "req",
    "-newkey",
    "rsa:2048",
    "-nodes",
    "-keyout",
    "broker.key",
    "-out",
    "broker.csr",
    "-subj",
    "/CN=127.0.0.1",
  ]);
  run([
    "x509",
    "-req",
    "-in",
    "broker.csr",
    "-CA",
    "ca.pem",
    "-CAkey",
    "ca.key",
    "-CAcreateserial",
    "-days",
    "2",
    "-out",
    "broker.pem",
    "-extfile",
    "san.ext",
  ]);
  // Kafka's PEM key store: an unencrypted PKCS#8 key followed by the certificate chain
  run(["pkcs8", "-topk8", "-nocrypt", "-in", "broker.key", "-out", "broker.pk8"]);
  const keystore = join(dir, "keystore.pem");
  writeFileSync(
    keystore,
    readFileSync(join(dir, "broker.pk8"), "utf8") +
      readFileSync(join(dir, "broker.pem"), "utf8") +
      readFileSync(join(dir, "ca.pem"), "utf8"),
  );
  return {
    keystore,
    caPem: readFileSync(join(dir, "ca.pem"), "utf8"),
    strangerCaPem: readFileSync(join(dir, "stranger-ca.pem"), "utf8"),
  };
}
