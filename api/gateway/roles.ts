/**
 * The API's roles, each including the ones before it: a `viewer` reads feeds and read models, an
 * `operator` also reads the node's internals (supervision, dead letters, audit of its own) and
 * runs day-to-day actions, an `admin` also changes what the node is (schemas, API keys).
 */
export const ROLES = ["viewer", "operator", "admin"] as const;
export type Role = (typeof ROLES)[number];

export function isRole(value: unknown): value is Role {
  return typeof value === "string" && (ROLES as readonly string[]).includes(value);
}

export function roleAtLeast(held: Role, needed: Role): boolean {
  return ROLES.indexOf(held) >= ROLES.indexOf(needed);
}

/** the strongest of several roles (a token may carry more than one); undefined if none is known */
export function strongestRole(values: readonly unknown[]): Role | undefined {
  let best: Role | undefined;
  for (const value of values)
    if (isRole(value) && (best === undefined || roleAtLeast(value, best))) best = value;
  return best;
}
