/** one_for_one: only the child that terminated is restarted (OTP supervisor, one_for_one). */
export function oneForOne<C>(children: readonly C[], terminated: number): readonly C[] {
  const child = children[terminated];
  return child === undefined ? [] : [child];
}
