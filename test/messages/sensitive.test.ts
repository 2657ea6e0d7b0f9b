import { expect, test } from "bun:test";
import { z } from "zod";
import { SensorRegistryRecord, sensorRegistryJsonSchema } from "../../messages/reference-data.ts";
import { sensitive, sensitiveFieldsOf } from "../../messages/sensitive.ts";

test("the sensor registry marks an installation's owner and contact sensitive, and nothing else", () => {
  expect(sensitiveFieldsOf(SensorRegistryRecord)).toEqual(["owner", "contact"]);
});

test("a mark is found through optional and nullable", () => {
  const schema = z.object({
    a: sensitive(z.string(), "r").optional(),
    b: sensitive(z.string(), "r").nullable(),
    c: z.string(),
  });
  expect(sensitiveFieldsOf(schema)).toEqual(["a", "b"]);
});

test("the mark stays out of the JSON Schema (registered schemas do not change)", () => {
  expect(JSON.stringify(sensorRegistryJsonSchema())).not.toContain("sensitive");
  expect(JSON.stringify(sensorRegistryJsonSchema())).not.toContain("reaches a person");
});
