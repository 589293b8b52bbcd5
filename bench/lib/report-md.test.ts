import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { formatCell, runToMarkdown, tableToMarkdown } from "./report-md.ts";

describe("formatCell", () => {
  it("formats numbers for people", () => {
    assert.equal(formatCell(12345.6), "12,346");
    assert.equal(formatCell(4.56789), "4.57");
    assert.equal(formatCell(0.012345), "0.0123");
    assert.equal(formatCell(0), "0");
    assert.equal(formatCell(Number.NaN), "–");
    assert.equal(formatCell("x"), "x");
  });
});

describe("markdown", () => {
  it("renders a padded table with escaped pipes", () => {
    const md = tableToMarkdown({
      title: "T",
      columns: ["a", "b|c"],
      rows: [
        ["x ⚠", 1.5],
        ["long cell", 12345],
      ],
    });
    assert.equal(
      md,
      [
        "**T**",
        "",
        "| a         | b\\|c   |",
        "| --------- | ------ |",
        "| x ⚠       | 1.5    |",
        "| long cell | 12,345 |",
      ].join("\n"),
    );
  });

  it("renders a run with header, scenario sections and chart", () => {
    const md = runToMarkdown(
      {
        command: "npm run bench",
        startedAt: "2025-01-01T00:00:00Z",
        durationS: 61,
        node: "v24",
        cpus: "2 x cpu",
        loadAvg: [0.5, 0.25, 0],
      },
      [
        { scenario: "s", description: "d", tables: [], charts: [], notes: ["n1"], data: null },
        { scenario: "t", description: "e", tables: [], charts: [], notes: ["n2"], data: null },
      ],
      "latest.png",
    );
    assert.match(md, /command: `npm run bench`/);
    assert.match(md, /load average at start 0.50 0.25 0.00/);
    assert.match(md, /## s\n\nd\n\n- n1\n/);
    assert.match(md, /!\[charts\]\(latest.png\)/);
    assert.doesNotMatch(md, /\n\n\n/);
  });
});
