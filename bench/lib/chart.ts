import { Resvg } from "@resvg/resvg-js";
import * as vega from "vega";
import * as vegaLite from "vega-lite";
import type { BarChart } from "./scenario.ts";

/** Vega-Lite spec stacking the grouped bar charts vertically (pure; exported for tests). */
export function chartsSpec(charts: BarChart[]): vegaLite.TopLevelSpec {
  return {
    $schema: "https://vega.github.io/schema/vega-lite/v6.json",
    background: "white",
    padding: 12,
    // Each chart has its own series (servers, percentiles, components): own colours, legend and offsets.
    resolve: { scale: { color: "independent", xOffset: "independent" }, legend: { color: "independent" } },
    vconcat: charts
      .filter((c) => c.bars.length > 0)
      .map((c) => ({
        title: c.title,
        width: 720,
        height: 180,
        data: { values: c.bars },
        mark: { type: "bar", tooltip: false },
        encoding: {
          x: { field: "category", type: "nominal", title: null, sort: null, axis: { labelAngle: 0, labelLimit: 400 } },
          xOffset: { field: "series", type: "nominal", sort: null },
          y: { field: "value", type: "quantitative", title: c.unit },
          color: { field: "series", type: "nominal", title: null, sort: null },
        },
      })),
  } as vegaLite.TopLevelSpec;
}

/** Renders the charts to a PNG (Vega-Lite → Vega → SVG → resvg); needs no browser or canvas. */
export async function renderChartsPng(charts: BarChart[]): Promise<Buffer> {
  const view = new vega.View(vega.parse(vegaLite.compile(chartsSpec(charts)).spec), { renderer: "none" });
  const svg = await view.toSVG();
  view.finalize();
  return new Resvg(svg, { fitTo: { mode: "zoom", value: 1.5 }, font: { loadSystemFonts: true } }).render().asPng();
}
