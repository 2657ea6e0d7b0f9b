import { ErrorCodes, PlatformError } from "../messages/errors.ts";
import type { ActorRef, Address } from "./actor.ts";
import type { ActorCell } from "./actor-cell.ts";
import { DEAD } from "./cell-flags.ts";

/** Finds (and for sharded kinds, spawns) the live cell behind an address, or says why not. */
export interface CellResolver {
  resolve(kind: string, key: string): ActorCell | string;
  deadLetter(address: string, reason: string): void;
}

/**
 * A ref to `kind/key` whose actor may not exist yet (sharded entities spawn on their first
 * message) or may come and go (passivation). It caches the live cell and resolves again only
 * when that cell has ended, so a held ref costs one flag test per tell.
 */
export class EntityRef implements ActorRef<unknown> {
  readonly address: Address;
  private cell: ActorCell | undefined = undefined;

  constructor(
    private readonly resolver: CellResolver,
    private readonly kind: string,
    private readonly key: string,
  ) {
    this.address = `${kind}/${key}`;
  }

  tell(message: unknown): boolean {
    const cell = this.live();
    if (typeof cell === "string") {
      this.resolver.deadLetter(this.address, cell);
      return false;
    }
    return cell.tell(message);
  }

  offer(message: unknown): Promise<void> {
    const cell = this.live();
    if (typeof cell === "string") {
      this.resolver.deadLetter(this.address, cell);
      const code = cell.startsWith("unknown") ? ErrorCodes.UNKNOWN_ACTOR_KIND : ErrorCodes.ACTOR_STOPPED;
      return Promise.reject(new PlatformError(code, `${this.address}: ${cell}`));
    }
    return cell.offer(message);
  }

  private live(): ActorCell | string {
    const cached = this.cell;
    if (cached !== undefined && (cached.flags & DEAD) === 0) return cached;
    const resolved = this.resolver.resolve(this.kind, this.key);
    this.cell = typeof resolved === "string" ? undefined : resolved;
    return resolved;
  }
}
