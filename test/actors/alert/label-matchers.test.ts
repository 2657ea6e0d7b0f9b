import { expect, test } from "bun:test";
import { compileMatcher, parseMatcher } from "../../../actors/alert/label-matchers.ts";

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
