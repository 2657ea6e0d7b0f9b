/**
 * FNV-1a (32 bit) of a string: the seed of every deterministic draw of the simulator, so a
 * symbol's day is the same whichever request, process or stream asks for it.
 */
export function fnv1a(text: string): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    hash ^= text.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193);
  }
  return hash >>> 0;
}
