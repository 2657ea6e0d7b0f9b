import { z } from "zod";
import { type LabelMatcher, LabelMatcher as LabelMatcherSchema } from "../messages/alert.ts";

/**
 * Label matchers as Alertmanager writes them (`severity="critical"`, `team=~"db|web"`,
 * `env!=prod`, `job!~"test.*"`) or as its API sends them (`{name, value, isRegex, isEqual}`).
 * A regex matcher is anchored at both ends, as in Prometheus; a missing label matches as "".
 */
const MATCHER_TEXT = /^\s*([a-zA-Z_][a-zA-Z0-9_]*)\s*(=~|!~|!=|=)\s*(?:"((?:[^"\\]|\\.)*)"|([^"\s]*))\s*$/;
/** regexes longer than this are refused: they are compiled for every evaluation */
const MAX_REGEX_LENGTH = 1000;

export function parseMatcher(text: string): LabelMatcher | Error {
  const match = MATCHER_TEXT.exec(text);
  if (!match) return new Error(`'${text.slice(0, 80)}' is not a matcher like name="value" or name=~"regex"`);
  const [, name, op, quoted, bare] = match;
  const value = quoted !== undefined ? quoted.replace(/\\(.)/g, "$1") : (bare ?? "");
  return { name: name ?? "", value, isRegex: op === "=~" || op === "!~", isEqual: op === "=" || op === "=~" };
}

/** a compiled matcher: the regex is built once */
export interface CompiledMatcher {
  readonly matcher: LabelMatcher;
  matches(labels: Readonly<Record<string, string>>): boolean;
}

export function compileMatcher(matcher: LabelMatcher): CompiledMatcher | Error {
  let test: (value: string) => boolean;
  if (matcher.isRegex) {
    if (matcher.value.length > MAX_REGEX_LENGTH) return new Error(`regex of '${matcher.name}' is too long`);
    const unsafe = backtrackingHazard(matcher.value);
    if (unsafe) return new Error(`regex of '${matcher.name}' is refused: ${unsafe}`);
    let regex: RegExp;
    try {
      regex = new RegExp(`^(?:${matcher.value})$`);
    } catch (cause) {
      return new Error(`'${matcher.value.slice(0, 80)}' is not a valid regex: ${(cause as Error).message}`);
    }
    test = (value) => regex.test(value);
  } else test = (value) => value === matcher.value;
  return {
    matcher,
    matches: (labels) => test(labels[matcher.name] ?? "") === matcher.isEqual,
  };
}

export function matchesAll(
  matchers: readonly CompiledMatcher[],
  labels: Readonly<Record<string, string>>,
): boolean {
  for (const m of matchers) if (!m.matches(labels)) return false;
  return true;
}

/** a config field: a list of matchers as text or as objects, compiled */
export const Matchers = z.array(z.union([z.string(), LabelMatcherSchema])).transform((items, ctx) => {
  const compiled: CompiledMatcher[] = [];
  for (const item of items) {
    const matcher = typeof item === "string" ? parseMatcher(item) : item;
    const result = matcher instanceof Error ? matcher : compileMatcher(matcher);
    if (result instanceof Error) {
      ctx.addIssue({ code: "custom", message: result.message });
      return z.NEVER;
    }
    compiled.push(result);
  }
  return compiled;
});

/**
 * Alertmanager's regexes are RE2 (linear time); JavaScript's backtrack, and a matcher comes from
 * the API (silences), so a pattern like `(a+)+$` against a long label value could hold the main
 * thread for minutes. Refused: a quantified group that itself holds a quantifier (star height
 * above one, the classic catastrophic case), and backreferences and lookarounds, which RE2 does
 * not have either. What RE2 accepts and this refuses can be written without nesting.
 */
export function backtrackingHazard(pattern: string): string | undefined {
  if (/\\[1-9]|\\k</.test(pattern)) return "backreferences are not supported (RE2 has none)";
  if (/\(\?(?:[=!]|<[=!])/.test(pattern)) return "lookarounds are not supported (RE2 has none)";
  // per open group: whether a quantifier was seen inside it
  const quantifiedInside: boolean[] = [];
  let lastGroupQuantified = false;
  for (let i = 0; i < pattern.length; i++) {
    const ch = pattern[i];
    if (ch === "\\") {
      i++;
      lastGroupQuantified = false;
      continue;
    }
    if (ch === "[") {
      // a character class: skip to its end
      i++;
      if (pattern[i] === "^") i++;
      if (pattern[i] === "]") i++;
      while (i < pattern.length && pattern[i] !== "]") i += pattern[i] === "\\" ? 2 : 1;
      lastGroupQuantified = false;
      continue;
    }
    if (ch === "(") {
      quantifiedInside.push(false);
      lastGroupQuantified = false;
    } else if (ch === ")") {
      lastGroupQuantified = quantifiedInside.pop() ?? false;
      continue;
    } else if (ch === "*" || ch === "+" || ch === "{" || (ch === "?" && pattern[i - 1] !== "(")) {
      const repeats = ch !== "?" && !(ch === "{" && /^\{\d+\}/.test(pattern.slice(i)));
      if (repeats && lastGroupQuantified) return "a repeated group holds a repetition (nested quantifiers)";
      if (repeats) for (let d = 0; d < quantifiedInside.length; d++) quantifiedInside[d] = true;
    }
    lastGroupQuantified = false;
  }
  return undefined;
}
