import { Database } from "bun:sqlite";
import { afterEach, beforeEach, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { GroupStore } from "../../../log/embedded/group-store.ts";
import { prepareDatabase } from "../../../log/embedded/schema.ts";

const GROUP = "g";
const member = (memberId: string) => ({ memberId, topics: ["t"] });

describe("group store: the generation known between looks", () => {
  let dir: string;
  const opened: Database[] = [];
  const connection = () => {
    const db = new Database(join(dir, "log.db"), { create: true, strict: true });
    prepareDatabase(db, "NORMAL", 5000);
    opened.push(db);
    return { db, groups: new GroupStore(db) };
  };

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), "group-store-"));
  });
  afterEach(() => {
    for (const db of opened.splice(0)) db.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const ownChanges: { name: string; change: (groups: GroupStore) => void }[] = [
    { name: "a join", change: (groups) => groups.join(GROUP, member("b"), 1_000) },
    { name: "a leave", change: (groups) => groups.leave(GROUP, "a") },
    {
      name: "an eviction by a heartbeat",
      change: (groups) => {
        groups.join(GROUP, member("b"), 10_000);
        groups.heartbeat(GROUP, "b", 10_000, 5_000);
      },
    },
  ];
  for (const { name, change } of ownChanges) {
    test(`${name} by this connection is seen by the next generation() without another connection's commit`, () => {
      const { groups } = connection();
      groups.join(GROUP, member("a"), 1_000);
      const before = groups.generation(GROUP);
      change(groups);
      expect(groups.generation(GROUP)).toBeGreaterThan(before);
    });
  }

  test("another connection's join (another process sharing the file) is seen by the next look", () => {
    const mine = connection().groups;
    const theirs = connection().groups;
    mine.join(GROUP, member("a"), 1_000);
    expect(mine.generation(GROUP)).toBe(1);
    theirs.join(GROUP, member("b"), 1_000);
    expect(mine.generation(GROUP)).toBe(2);
    expect(mine.members(GROUP).map((m) => m.memberId)).toEqual(["a", "b"]);
  });

  test("a look that finds no other connection's commit answers from memory, not from SQLite", () => {
    const { db, groups } = connection();
    groups.join(GROUP, member("a"), 1_000);
    expect(groups.generation(GROUP)).toBe(1);
    // written behind the store's back on its own connection: data_version does not change, so
    // only a store that asked SQLite again would see it (every poll used to)
    db.run("UPDATE groups SET generation = 99 WHERE group_id = ?", [GROUP]);
    expect(groups.generation(GROUP)).toBe(1);
    // another connection's commit makes the next look read again
    connection().db.run("UPDATE groups SET generation = generation + 1 WHERE group_id = ?", [GROUP]);
    expect(groups.generation(GROUP)).toBe(100);
  });

  test("a look taken before another connection's commit and one taken after read the generation each saw", () => {
    const mine = connection();
    const theirs = connection().groups;
    mine.groups.join(GROUP, member("a"), 1_000);
    const early = mine.db.query("PRAGMA data_version").get() as { data_version: number };
    theirs.join(GROUP, member("b"), 1_000);
    // a poll passes the look it made at its start; the stale look re-reads rather than trusting memory
    expect(mine.groups.generation(GROUP, early.data_version)).toBe(2);
    expect(mine.groups.generation(GROUP)).toBe(2);
  });
});
