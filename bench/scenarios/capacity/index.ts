import { join } from "node:path";
import {
  type Assumptions,
  capacityRows,
  defaultAssumptions,
  type MeasuredInputs,
  signalingPods,
} from "../../capacity.ts";
import type { Cell, Scenario, ScenarioContext, ScenarioResult, Table } from "../../lib/scenario.ts";
import { podDevicesBar } from "../idle-devices/report.ts";
import { contendedWaitPct } from "../steady-calls/report.ts";
import { type GatheredInputs, gatherInputs } from "./inputs.ts";

const units: Record<keyof MeasuredInputs, string> = {
  rssKbPerDevice: "KB RSS per connected device",
  baselineRssMb: "MB RSS of an empty server",
  cpuMsPerConnect: "ms CPU per device connect",
  idleCpuUsPerDeviceSecond: "µs CPU per idle device per second",
  cpuMsPerCallLifecycle: "ms CPU per call (start, ring, accept, hangup, 3 store writes)",
  cpuUsPerRelayedMessage: "µs CPU per relayed offer/answer/candidate",
  cpuUsPerQualityReport: "µs CPU per quality report (quality-reports, rollup on; else the steady command mix)",
  sampleWritesPerReport: "sample rows written per quality report (one per call window)",
  sampleBytesPerReport: "B stored per sample in a window row",
  cpuUsPerForwardedMessage: "µs CPU per node-to-node forwarded message (bare grpc-js relay)",
  etcdDirectoryBytesPerCall: "B of etcd file per active call in the call directory (compact layout)",
  etcdDirectoryRevisionsPerCall: "etcd revisions per call in the call directory (compact layout)",
};

const yes = (met: boolean | undefined) => (met === undefined ? "–" : met ? "yes" : "NO");
const fmt = (x: number | undefined, digits = 1) =>
  x === undefined || !Number.isFinite(x) ? "–" : x >= 100 ? Math.round(x).toLocaleString("en-US") : x.toFixed(digits);

/** The §12 bars this harness measures, with the figures behind each verdict. */
export function glanceTable(g: GatheredInputs): Table {
  const rows: Cell[][] = [];
  const paced = g.relay?.cells[g.relay.paced];
  for (const size of g.steadySizes ?? [])
    rows.push([
      `signaling hop under load (steady-calls, ${size.calls} calls, sender → peer)`,
      `p50 ${fmt(size.hopP50, 2)} ms, p99 ${fmt(size.hopP99, 2)} ms; server waited for a CPU ${fmt(size.serverWaitPct, 0)}% of the window${size.serverWaitPct > contendedWaitPct ? " ⚠ contended" : ""}`,
      "p99 < 10 ms",
      yes(size.hopP99 < 10),
    ]);
  const pacedFull = paced?.["calldrop grpc-js"];
  if (pacedFull)
    rows.push([
      "relay round trip (2 hops) p99 at a fixed paced rate (relay-compare)",
      `p50 ${fmt(pacedFull.p50, 2)} ms, p99 ${fmt(pacedFull.p99, 2)} ms (PeerJS p99 ${fmt(paced?.peerjs?.p99, 2)}, bare grpc-js ${fmt(paced?.["bare grpc-js"]?.p99, 2)})`,
      "hop p99 < 10 ms",
      pacedFull.p99 < 10 ? "yes" : "not shown (bound only)",
    ]);
  for (const b of g.relay?.bars.slice(0, 2) ?? [])
    rows.push([b.bar, b.measured, b.bar.includes("0.8x") ? "≥ 0.8x" : "≥ 1x", b.verdict ?? (b.met ? "yes" : "NO")]);
  if (g.idle)
    rows.push([
      "idle devices per 2-core pod within 4 GiB (idle-devices, extrapolated)",
      `${fmt(g.idle.rssKbPerDevice)} KB/device → ${fmt(g.idle.devicesIn4GiB)} devices in 4 GiB (measured ${g.idle.devices.toLocaleString("en-US")})`,
      `≥ ${podDevicesBar.toLocaleString("en-US")}`,
      yes(g.idle.devicesIn4GiB >= podDevicesBar),
    ]);
  if (g.storm)
    rows.push([
      "sustained call-start rate per pod (call-storm)",
      `${fmt(g.storm.callsPerSecond)} calls/s measured (server CPU ${fmt(g.storm.serverCpuPct)} %), ${fmt(g.storm.serverCpuMsPerCall, 2)} ms CPU/call → ${fmt(1000 / g.storm.serverCpuMsPerCall)} calls/s per core; start→ringing p99 ${fmt(g.storm.startToRingingP99)} ms`,
      "measured (no bar)",
      "–",
    ]);
  return { title: "§12 targets at a glance", columns: ["target", "measured", "bar", "met"], rows };
}

function assumptionsTable(a: Assumptions): Table {
  return {
    title: "Assumptions of the capacity model (bench/capacity.ts; change them there)",
    columns: ["assumption", "value"],
    rows: Object.entries(a).map(([key, value]) => [key, Array.isArray(value) ? value.join(", ") : (value as Cell)]),
  };
}

async function run(ctx: ScenarioContext): Promise<ScenarioResult> {
  const gathered = gatherInputs(ctx.previous ?? [], join(import.meta.dirname, "..", "..", "results"));
  const measured = Object.fromEntries(
    Object.entries(gathered.measured).map(([k, v]) => [k, v.value]),
  ) as MeasuredInputs;
  const a = defaultAssumptions;
  const rows = capacityRows(measured, a);
  const pods = signalingPods(measured, a);
  const assumed = Object.values(gathered.measured).filter((m) => m.source.startsWith("assumed")).length;
  return {
    scenario: "capacity",
    description: capacity.description,
    tables: [
      glanceTable(gathered),
      {
        title: "Measured per-pod inputs (one Node process per 2-core pod)",
        columns: ["input", "value", "source"],
        rows: Object.entries(gathered.measured).map(([k, v]) => [units[k as keyof MeasuredInputs], v.value, v.source]),
      },
      {
        title: `Capacity for ${a.concurrentCalls.toLocaleString("en-US")} concurrent calls, ${(a.callsPerDay / 1e6).toFixed(0)} M calls/day, ${(a.peakRps / 1e3).toFixed(0)} k RPS peak`,
        columns: ["resource", "peak demand", "per unit", ...a.headrooms.map((h) => `units at ${h}x headroom`)],
        rows: rows.map((r) => [r.resource, r.demand, r.perUnit, ...r.units]),
      },
      assumptionsTable(a),
    ],
    charts: [
      {
        title: "capacity: signaling CPU demand at peak by component (cores, before headroom)",
        unit: "cores",
        bars: Object.entries(pods.cpu)
          .filter(([k]) => k !== "total")
          .map(([k, v]) => ({ category: k, series: "cores", value: v })),
      },
    ],
    notes: [
      "Pods: one Node process per 2-core pod; its event loop is one thread, so 1 core of CPU per pod is counted (GC threads, kernel networking and sidecars use the other). Memory: connected devices × measured RSS per device + the empty server's RSS within 85% of 4 GiB.",
      "Peak call-start rate = concurrent calls / mean call duration (500k / 300 s = 1,667/s; 50 M/day is 579/s on average, so the peak is ~2.9x the mean). Quality reports every 5 s from 1 M participants (200k/s) are rolled up per call on the call's owner (docs/spec.md §7 'Sample windows'): one Cassandra row per call per 30 s window (≈ 12 reports), so they cost signaling CPU per report but Cassandra only per window; the reports of the participant on the other pod are forwarded to the owner.",
      "etcd: one put on connect and one compare-and-delete on disconnect per device session; presence is sharded by user hash over the clusters (cluster.presenceShards), so writes, keys and watches split evenly and each pod holds one lease per cluster; a change goes only to the nodes following that user (the fan-out column), at any pod count.",
      "etcd call directory (docs/cluster.md 'Call directory size'): four keys per call in the compact layout, written at start, phase changes and the end (5 transactions per answered call, read-modify-writes); its size is far inside the quota, its writes are what to plan for — on the presence clusters' load or a cluster of their own.",
      "Cassandra per completed call: start = logged batch of 6 rows (calls_by_id, 2 × calls_by_user, 2 × call_months_by_user, ringing_by_deadline); answer = 1 LWT + read + batch of 4; finalize = 1 LWT + read + batch of 5 (incl. the ringing delete); a missed call adds 1 row. No bench/store/README.md exists on branch `cassandra`, so the per-node write rate is an assumption, stated in the table.",
      "TURN: 20% of calls relayed, 1.5 Mbit/s per direction, both directions through the relay (in and out of the TURN server).",
      ...(assumed ? [`${assumed} input(s) not measured in any run: stand-in values used, marked 'assumed'.`] : []),
    ],
    data: { gathered, assumptions: a, rows, pods },
  };
}

/** Capacity model from the measured per-pod figures, and the §12 summary. */
const capacity: Scenario = {
  name: "capacity",
  description:
    "Capacity model: the per-pod figures measured above (or in the newest results file) turned into signaling pods, etcd and Cassandra load and TURN bandwidth for 500k concurrent calls / 50M calls a day / 75k RPS peak, at 2x and 3x headroom; plus the §12 bars at a glance.",
  estimateSeconds: () => 1,
  run,
};

export default capacity;
