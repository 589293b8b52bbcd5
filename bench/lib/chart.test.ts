import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { chartsSpec, renderChartsPng } from "./chart.ts";

const charts = [
  {
    title: "A",
    unit: "msg/s",
    bars: [
      { category: "p1", series: "s1", value: 3 },
      { category: "p1", series: "s2", value: 5 },
    ],
  },
  { title: "empty", unit: "ms", bars: [] },
];

describe("charts", () => {
  it("stacks one grouped bar chart per non-empty chart", () => {
    const spec = chartsSpec(charts) as { vconcat: { title: string; data: { values: unknown[] } }[] };
    assert.deepEqual(
      spec.vconcat.map((c) => c.title),
      ["A"],
    );
    assert.equal(spec.vconcat[0]?.data.values.length, 2);
  });

  it("gives every chart its own colours, legend and bar offsets", () => {
    const spec = chartsSpec(charts) as { resolve?: { scale?: Record<string, string> } };
    assert.deepEqual(spec.resolve?.scale, { color: "independent", xOffset: "independent" });
  });

  it("renders a PNG", async () => {
    const png = await renderChartsPng(charts);
    assert.deepEqual([...png.subarray(1, 4)], [...Buffer.from("PNG")]);
    assert.ok(png.length > 1000);
  });
});
