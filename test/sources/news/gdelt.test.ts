import { afterAll, expect, test } from "bun:test";
import { ErrorCodes, isPlatformError } from "../../../messages/errors.ts";
import { gdeltSource } from "../../../sources/news/gdelt.ts";

/** GDELT's DOC 2.0 ArtList answers, from a local server speaking its shape */
const seen: URL[] = [];
const server = Bun.serve({
  hostname: "127.0.0.1",
  port: 0,
  fetch(request) {
    const url = new URL(request.url);
    seen.push(url);
    if (url.searchParams.get("query")?.includes("Nowhere"))
      return new Response("Your search contained an error.");
    return Response.json({
      articles: [
        { url: "https://example.org/one", title: "One", seendate: "20261130T101500Z", domain: "example.org" },
        { url: "https://example.org/two", title: "Two", seendate: "not a date" },
        "a string",
      ],
    });
  },
});
afterAll(() => server.stop(true));

test("an ArtList answer becomes articles with GDELT's seen time; bad items are rejected with a reason", async () => {
  const page = await gdeltSource({ baseUrl: `http://127.0.0.1:${server.port}` }).search({
    location: "Mitte",
    keywords: ["traffic"],
    from: Date.parse("2026-11-29T00:00:00Z"),
    page: 1,
    pageSize: 50,
  });
  expect(page.articles.map((a) => [a.title, a.published_at, a.source, a.provider])).toEqual([
    ["One", "2026-11-30T10:15:00Z", "example.org", "gdelt"],
  ]);
  expect(page.rejected.length).toBe(2);
  expect(page.nextPage).toBeUndefined();
  const url = seen.at(-1)!;
  expect(url.searchParams.get("query")).toBe('"Mitte" ("traffic")');
  expect(url.searchParams.get("startdatetime")).toBe("20261129000000");
});

test("GDELT's plain-text error answer is SOURCE_UNAVAILABLE", async () => {
  const failure = await gdeltSource({ baseUrl: `http://127.0.0.1:${server.port}` })
    .search({ location: "Nowhere", keywords: [], page: 1, pageSize: 10 })
    .catch((e: unknown) => e);
  expect(isPlatformError(failure, ErrorCodes.SOURCE_UNAVAILABLE)).toBe(true);
});
