import { afterEach, describe, expect, test } from "bun:test";
import { existsSync } from "node:fs";
import {
  type PrivateQuestDb,
  privateQuestDb,
  questdbAnswers,
  questdbJar,
} from "../../testkit/questdb-server.ts";
import { type PortSquatter, squatPort } from "./port-squatter.ts";

const skip = process.env.SKIP_INFRA_TESTS === "1" || !existsSync(questdbJar());

describe.skipIf(skip)("a private QuestDB for a test", () => {
  const servers: PrivateQuestDb[] = [];
  const squatters: PortSquatter[] = [];
  afterEach(async () => {
    for (const server of servers.splice(0)) await server.dispose();
    for (const squatter of squatters.splice(0)) await squatter.release();
  });

  // regression: freePort() answers a port another process may bind before QuestDB does, and
  // QuestDB then exits with "[98] could not bind socket" (its PG port, the third one, here)
  test("starts on other ports when a port it chose is taken before it binds", async () => {
    const squatter = await squatPort(2);
    squatters.push(squatter);

    const questdb = await privateQuestDb({ choosePort: squatter.choosePort });
    servers.push(questdb);

    expect(squatter.handedOut()).toBeGreaterThan(3);
    expect(questdb.pgUrl).not.toContain(`:${squatter.port}/`);
    expect(await questdbAnswers(questdb.httpUrl)).toBe(true);
  });

  test("started again after a stop, waits for its own port while something holds it for a moment", async () => {
    let squatter: PortSquatter | undefined;
    const taken: string[] = [];
    let releasing: Promise<void> | undefined;
    // the holder lets go only once the restart has found the port taken
    const questdb = await privateQuestDb({
      onPortTaken(error) {
        taken.push(error.message);
        releasing = squatter?.release();
      },
    });
    servers.push(questdb);
    await questdb.stop();
    squatter = await squatPort(0, Number(new URL(questdb.httpUrl).port));
    squatters.push(squatter);

    await questdb.start();
    await releasing;

    expect(taken).toHaveLength(1);
    expect(taken[0]).toContain("could not bind socket");
    expect(await questdbAnswers(questdb.httpUrl)).toBe(true);
  });
});
