/** Reads a server's Prometheus text exposition (/metrics) in tests: samples, types, one series' value. */

/** One sample line of the text exposition format. */
export interface Sample {
  readonly name: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly value: number;
}

/** The samples and `# TYPE`s a server serves on /metrics. */
export async function scrape(baseUrl: string): Promise<{ samples: Sample[]; types: Map<string, string> }> {
  const text = await (await fetch(`${baseUrl}/metrics`)).text();
  const samples: Sample[] = [];
  const types = new Map<string, string>();
  for (const line of text.split("\n")) {
    const t = /^# TYPE (\S+) (\S+)$/.exec(line);
    if (t) types.set(t[1] as string, t[2] as string);
    const m = /^([a-z_:]+)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!m) continue;
    const labels = Object.fromEntries([...(m[2] ?? "").matchAll(/(\w+)="([^"]*)"/g)].map((x) => [x[1], x[2]]));
    samples.push({ name: m[1] as string, labels, value: Number(m[3]) });
  }
  return { samples, types };
}

/** The value of the first series `name` with (at least) `labels` on the server's /metrics, or undefined. */
export async function seriesValue(
  baseUrl: string,
  name: string,
  labels: Record<string, string> = {},
): Promise<number | undefined> {
  const { samples } = await scrape(baseUrl);
  return samples.find((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v))?.value;
}
