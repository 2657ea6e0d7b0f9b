/**
 * rest_for_one: the terminated child and every child started after it are terminated and
 * restarted, in start order (OTP supervisor, rest_for_one).
 */
export function restForOne<C>(children: readonly C[], terminated: number): readonly C[] {
  return terminated < 0 ? [] : children.slice(terminated);
}
