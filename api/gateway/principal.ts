import type { Role } from "./roles.ts";

/**
 * Who is calling, as the gateway established it. `subject` names the caller in the audit log
 * (an API key's id and name, a token's `sub`); it never holds a secret.
 */
export interface Principal {
  readonly subject: string;
  readonly role: Role;
  readonly via: "api-key" | "bootstrap-key" | "jwt" | "development";
}
