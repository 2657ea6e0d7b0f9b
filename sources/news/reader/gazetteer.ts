/**
 * The places a reader may name: the simulated city's districts (and the city itself), matched
 * without regard to case or accents, so "Tempelhof-Schoneberg" and "tempelhof-schöneberg" are
 * the same district. Gemini's answers are filtered through it too: a reader never invents a
 * district.
 */
export class Gazetteer {
  readonly #byFolded = new Map<string, string>();

  constructor(readonly places: readonly string[]) {
    for (const place of places) this.#byFolded.set(fold(place), place);
  }

  /** the gazetteer's spelling of `name`, or undefined when it is no known place */
  canonical(name: string): string | undefined {
    return this.#byFolded.get(fold(name));
  }

  /** known places mentioned in `text`, in order of first mention, each once */
  mentionedIn(text: string): string[] {
    const folded = fold(text);
    const found: { place: string; at: number }[] = [];
    for (const [foldedPlace, place] of this.#byFolded) {
      const at = wordIndex(folded, foldedPlace);
      if (at >= 0) found.push({ place, at });
    }
    return found.sort((a, b) => a.at - b.at).map((f) => f.place);
  }
}

export function fold(text: string): string {
  return text
    .normalize("NFKD")
    .replace(/[\u0300-\u036f]/g, "")
    .toLowerCase();
}

/** index of `needle` in `haystack` as whole words (not "Mitte" inside "Mittens") */
function wordIndex(haystack: string, needle: string): number {
  let from = 0;
  for (;;) {
    const at = haystack.indexOf(needle, from);
    if (at < 0) return -1;
    const before = at === 0 ? "" : haystack[at - 1]!;
    const after = haystack[at + needle.length] ?? "";
    if (!/[\p{L}\p{N}]/u.test(before) && !/[\p{L}\p{N}]/u.test(after)) return at;
    from = at + 1;
  }
}
