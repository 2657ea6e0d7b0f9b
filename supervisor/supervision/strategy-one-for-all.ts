/** one_for_all: every child is terminated and restarted (OTP supervisor, one_for_all). */
export function oneForAll<C>(children: readonly C[], _terminated: number): readonly C[] {
  return children.slice();
}
