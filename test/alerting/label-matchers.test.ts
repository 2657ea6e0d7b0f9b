import { expect, test } from "bun:test";
import { compileMatcher, parseMatcher } from "../../alerting/label-matchers.ts";

test.each([
  ['severity="critical"', { severity: "critical" }, true],
  ['severity="critical"', { severity: "warning" }, false],
  ["severity=critical", { severity: "critical" }, true],
  ['severity!="critical"', { severity: "warning" }, true],
  ['severity!="critical"', {}, true],
  ['team=~"db|web"', { team: "web" }, true],
  ['team=~"db|web"', { team: "webby" }, false],
  ['team!~"db.*"', { team: "dba" }, false],
  ['env=""', {}, true],
  ['msg="a \\"quoted\\" word"', { msg: 'a "quoted" word' }, true],
])("%s against %j matches: %p", (text, labels, expected) => {
  const matcher = parseMatcher(text);
  if (matcher instanceof Error) throw matcher;
  const compiled = compileMatcher(matcher);
  if (compiled instanceof Error) throw compiled;
  expect(compiled.matches(labels)).toBe(expected);
});

test.each([["no operator"], ["1abc=x"], ['a=="x"']])("'%s' is not a matcher", (text) => {
  expect(parseMatcher(text)).toBeInstanceOf(Error);
});

test.each([
  ["(a+)+$", true],
  ["(a*)*", true],
  ["(x|y+)+", true],
  ["((ab)+c)*", true],
  ["(a{2,})+", true],
  ["(a)\\1", true],
  ["(?=a)a", true],
  ["db|web", false],
  ["node-[0-9]+", false],
  ["(db|web)+", false],
  ["(a{3})+", false],
  ["[(+]+", false],
  ["(\\+)+", false],
  ["(?:db|web)-.*", false],
])("the regex %s is refused as a backtracking hazard: %p", (pattern, refused) => {
  const compiled = compileMatcher({ name: "n", value: pattern, isRegex: true, isEqual: true });
  expect(compiled instanceof Error).toBe(refused);
});

test("a hostile regex in a silence cannot hold the thread: it is refused before it runs", () => {
  const started = performance.now();
  const compiled = compileMatcher({ name: "n", value: "(a+)+$", isRegex: true, isEqual: true });
  expect(compiled).toBeInstanceOf(Error);
  expect(performance.now() - started).toBeLessThan(50);
});
