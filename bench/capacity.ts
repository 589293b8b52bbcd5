/**
 * The capacity model (pure): turns per-pod figures measured by the bench scenarios and a set of
 * stated workload assumptions into signaling pods, etcd and Cassandra load, and TURN bandwidth
 * for the target of docs/spec.md §1 (500k concurrent calls, 50M calls a day, 75k RPS peak), at
 * 2x and 3x headroom. Every assumption is a named field so the report can print it.
 */

/** Figures the bench measures: per pod (one Node process per pod), and the call directory's etcd cost per call. */
export type MeasuredInputs = {
  /** Server RSS per idle connected device, KB (idle-devices). */
  rssKbPerDevice: number;
  /** Server RSS with no device, MB (idle-devices baseline). */
  baselineRssMb: number;
  /** Server CPU per device connect (auth, session, stream), ms (idle-devices). */
  cpuMsPerConnect: number;
  /** Server CPU per idle device per second (keepalives, timers), µs (idle-devices). */
  idleCpuUsPerDeviceSecond: number;
  /** Server CPU per call start → ring → accept → hangup incl. its 3 store writes, ms (call-storm). */
  cpuMsPerCallLifecycle: number;
  /** Server CPU per relayed signaling command (offer/answer/candidate), µs (relay-compare). */
  cpuUsPerRelayedMessage: number;
  /** Server CPU per quality report, samples rolled up per call, µs (quality-reports; else the steady-calls command mix). */
  cpuUsPerQualityReport: number;
  /** Sample rows written per quality report: one per call window (quality-reports, rollup on). */
  sampleWritesPerReport: number;
  /** Bytes a stored window takes per sample (quality-reports: the compact text of a 12-sample window). */
  sampleBytesPerReport: number;
  /** CPU for one message over the node-to-node stream (send + receive), µs (bare grpc-js relay). */
  cpuUsPerForwardedMessage: number;
  /** etcd file bytes per active call of the call directory, compacted and defragmented (call-directory, compact layout). */
  etcdDirectoryBytesPerCall: number;
  /** etcd revisions (writing transactions) per call of the call directory (call-directory, compact layout). */
  etcdDirectoryRevisionsPerCall: number;
};

/** The workload and the infrastructure figures we assume (printed with the results). */
export type Assumptions = {
  concurrentCalls: number;
  /** Connected devices of online users that are not in a call (foreground apps, web tabs). */
  idleDevices: number;
  callsPerDay: number;
  /** Mean call duration, s: peak call-start rate = concurrentCalls / this. */
  meanCallSeconds: number;
  /** Seed figure: peak requests per second including bursts. */
  peakRps: number;
  /** Client commands per call besides start/accept/hangup: offer, answer, 2 × (10 candidates + end), 2 media states. */
  relayedCommandsPerCall: number;
  qualityReportSeconds: number;
  /** Mean time a device stays connected before it reconnects (mobile churn, max connection age). */
  deviceSessionSeconds: number;
  /** Share of relayed messages whose peer sits on another pod (≈ 1 − 1/pods). */
  crossPodShare: number;
  /** Pod shape. */
  podCores: number;
  podMemoryGiB: number;
  /** CPU one Node process can use: its event loop is one thread (the rest of the pod: GC, kernel, sidecars). */
  usableCoresPerPod: number;
  /** Share of pod memory usable for the process RSS. */
  usableMemoryShare: number;
  headrooms: number[];
  /** etcd: writes per device session (put on connect, compare-and-delete on disconnect). */
  etcdWritesPerSession: number;
  /** Sustained writes/s one etcd cluster takes (assumed; 3 nodes on SSD). */
  etcdWritesPerSecondPerCluster: number;
  etcdLeaseTtlSeconds: number;
  /**
   * Nodes that watch a user while it is in a call (docs/cluster.md "Presence at scale": a node
   * follows only the users it looked up): the call's owner and, across pods, one more.
   */
  etcdWatchersPerUserInCall: number;
  /** etcd's backend quota (--quota-backend-bytes; 8 GiB is etcd's recommended maximum), GiB. */
  etcdQuotaGiB: number;
  /** Cassandra row writes per completed call (start batch 6, answer batch 4, finalize batch 5 incl. ringing delete). */
  cassandraRowsPerCall: number;
  cassandraLwtPerCall: number;
  cassandraLoggedBatchesPerCall: number;
  /** Write-equivalents one LWT costs (Paxos prepare/propose/commit + read). */
  lwtWriteEquivalents: number;
  /** Extra writes per logged batch (batchlog write + removal). */
  batchlogWrites: number;
  replicationFactor: number;
  /** Replica writes/s one Cassandra node sustains (assumed; 8 vCPU, NVMe). */
  cassandraReplicaWritesPerNode: number;
  sampleTtlDays: number;
  /** Bytes of a sample row besides its samples: keys, timestamps, cell and row overhead (assumed). */
  sampleRowOverheadBytes: number;
  relayedCallShare: number;
  /** Media bitrate per direction of a call, Mbit/s. */
  mediaMbitPerDirection: number;
  /** Usable throughput per TURN server per direction, Gbit/s (10 GbE at 70%). */
  turnGbitPerServer: number;
};

/** The assumptions the report uses unless told otherwise (see bench/README.md for the reasoning). */
export const defaultAssumptions: Assumptions = {
  concurrentCalls: 500_000,
  idleDevices: 4_000_000,
  callsPerDay: 50_000_000,
  meanCallSeconds: 300,
  peakRps: 75_000,
  relayedCommandsPerCall: 26,
  qualityReportSeconds: 5,
  deviceSessionSeconds: 600,
  crossPodShare: 1,
  podCores: 2,
  podMemoryGiB: 4,
  usableCoresPerPod: 1,
  usableMemoryShare: 0.85,
  headrooms: [2, 3],
  etcdWritesPerSession: 2,
  etcdWritesPerSecondPerCluster: 20_000,
  etcdLeaseTtlSeconds: 10,
  etcdWatchersPerUserInCall: 2,
  etcdQuotaGiB: 8,
  cassandraRowsPerCall: 15,
  cassandraLwtPerCall: 2,
  cassandraLoggedBatchesPerCall: 3,
  lwtWriteEquivalents: 4,
  batchlogWrites: 2,
  replicationFactor: 3,
  cassandraReplicaWritesPerNode: 25_000,
  sampleTtlDays: 30,
  sampleRowOverheadBytes: 60,
  relayedCallShare: 0.2,
  mediaMbitPerDirection: 1.5,
  turnGbitPerServer: 7,
};

/** Demand derived from the assumptions alone. */
export type Workload = {
  devicesInCalls: number;
  connectedDevices: number;
  avgCallsPerSecond: number;
  peakCallsPerSecond: number;
  avgConcurrentCalls: number;
  qualityReportsPerSecond: number;
  relayedPerSecond: number;
  /** Client commands/s at peak: call lifecycle + relayed signaling + quality reports. */
  commandsPerSecond: number;
  connectsPerSecond: number;
};

/** Derives the peak demand. */
export function workload(a: Assumptions): Workload {
  const devicesInCalls = 2 * a.concurrentCalls;
  const peakCallsPerSecond = a.concurrentCalls / a.meanCallSeconds;
  const avgCallsPerSecond = a.callsPerDay / 86_400;
  const qualityReportsPerSecond = devicesInCalls / a.qualityReportSeconds;
  const relayedPerSecond = peakCallsPerSecond * a.relayedCommandsPerCall;
  const connectedDevices = devicesInCalls + a.idleDevices;
  return {
    devicesInCalls,
    connectedDevices,
    avgCallsPerSecond,
    peakCallsPerSecond,
    avgConcurrentCalls: avgCallsPerSecond * a.meanCallSeconds,
    qualityReportsPerSecond,
    relayedPerSecond,
    commandsPerSecond: peakCallsPerSecond * 3 + relayedPerSecond + qualityReportsPerSecond,
    connectsPerSecond: connectedDevices / a.deviceSessionSeconds,
  };
}

/** CPU demand at peak in cores (core-seconds per second), by component. */
export type CpuDemand = {
  idle: number;
  connects: number;
  callLifecycle: number;
  relayed: number;
  forwarding: number;
  qualityReports: number;
  /** Extra commands when the seed's peak RPS exceeds the modelled commands/s (priced as relayed messages). */
  rpsTopUp: number;
  total: number;
};

/** CPU demand of the workload with the measured per-unit costs. */
export function cpuDemand(m: MeasuredInputs, a: Assumptions, w = workload(a)): CpuDemand {
  const us = 1e-6;
  const parts = {
    idle: w.connectedDevices * m.idleCpuUsPerDeviceSecond * us,
    connects: w.connectsPerSecond * m.cpuMsPerConnect * 1e-3,
    callLifecycle: w.peakCallsPerSecond * m.cpuMsPerCallLifecycle * 1e-3,
    relayed: w.relayedPerSecond * m.cpuUsPerRelayedMessage * us,
    // Call events and relayed signals cross pods; a quality report goes to the call's owner (docs/spec.md §7
    // "Sample windows"), so the reports of the participant on the other pod cross too: half of them.
    forwarding:
      (w.relayedPerSecond + w.peakCallsPerSecond * 3 + w.qualityReportsPerSecond / 2) *
      a.crossPodShare *
      m.cpuUsPerForwardedMessage *
      us,
    qualityReports: w.qualityReportsPerSecond * m.cpuUsPerQualityReport * us,
    rpsTopUp: Math.max(0, a.peakRps - w.commandsPerSecond) * m.cpuUsPerRelayedMessage * us,
  };
  return { ...parts, total: Object.values(parts).reduce((s, x) => s + x, 0) };
}

/** One line of the capacity table. */
export type CapacityRow = {
  resource: string;
  demand: string;
  perUnit: string;
  /** Units needed at each headroom of `assumptions.headrooms`. */
  units: number[];
};

/** Signaling pods needed by memory (connected devices) and by CPU, at each headroom. */
export function signalingPods(m: MeasuredInputs, a: Assumptions) {
  const w = workload(a);
  const usableKb = a.podMemoryGiB * 1024 * 1024 * a.usableMemoryShare - m.baselineRssMb * 1024;
  const devicesPerPod = Math.max(0, Math.floor(usableKb / m.rssKbPerDevice));
  const cpu = cpuDemand(m, a, w);
  const byMemory = a.headrooms.map((h) => Math.ceil((w.connectedDevices * h) / devicesPerPod));
  const byCpu = a.headrooms.map((h) => Math.ceil((cpu.total * h) / a.usableCoresPerPod));
  return {
    devicesPerPod,
    byMemory,
    byCpu,
    pods: byMemory.map((n, i) => Math.max(n, byCpu[i] ?? 0)),
    cpu,
    binding: a.headrooms.map((_, i) => ((byMemory[i] ?? 0) >= (byCpu[i] ?? 0) ? "memory" : "CPU")),
  };
}

/**
 * etcd load: presence writes and watch fan-out. Presence is sharded by user over the clusters
 * (docs/cluster.md "Sharded presence"), so writes, keys and watches divide evenly by the cluster
 * count; leases and keepalives are per cluster (every pod holds one lease in each).
 */
export function etcdLoad(a: Assumptions, pods: number) {
  const w = workload(a);
  const writesPerSecond = w.connectsPerSecond * a.etcdWritesPerSession;
  const keepalivesPerSecond = pods / (a.etcdLeaseTtlSeconds / 3);
  /** A change of a device goes to the nodes watching its user: only users in calls are watched by anyone (taken as one device each). */
  const watchersPerChange = (w.devicesInCalls / w.connectedDevices) * a.etcdWatchersPerUserInCall;
  return {
    writesPerSecond,
    keepalivesPerSecond,
    leases: pods,
    keys: w.connectedDevices + pods,
    /** Watches held in etcd: one per node per user it follows; independent of the pod count. */
    watches: w.devicesInCalls * a.etcdWatchersPerUserInCall,
    watchEventsPerSecond: writesPerSecond * watchersPerChange,
    clusters: a.headrooms.map((h) => Math.ceil((writesPerSecond * h) / a.etcdWritesPerSecondPerCluster)),
  };
}

/** The call directory in etcd (docs/cluster.md "Call directory size"): size at peak and its writes. */
export function directoryLoad(m: MeasuredInputs, a: Assumptions) {
  const w = workload(a);
  const bytes = a.concurrentCalls * m.etcdDirectoryBytesPerCall;
  const writesPerSecond = w.peakCallsPerSecond * m.etcdDirectoryRevisionsPerCall;
  return {
    bytes,
    quotaShare: bytes / (a.etcdQuotaGiB * 2 ** 30),
    writesPerSecond,
    /** Clusters its writes alone need (on a cluster of its own, or added to the presence clusters' load). */
    clusters: a.headrooms.map((h) => Math.ceil((writesPerSecond * h) / a.etcdWritesPerSecondPerCluster)),
  };
}

/** Cassandra load: call records and quality samples (rolled up per call: `sampleWritesPerReport` rows per report). */
export function cassandraLoad(
  m: Pick<MeasuredInputs, "sampleWritesPerReport" | "sampleBytesPerReport">,
  a: Assumptions,
) {
  const w = workload(a);
  const perCall =
    a.cassandraRowsPerCall +
    a.cassandraLwtPerCall * a.lwtWriteEquivalents +
    a.cassandraLoggedBatchesPerCall * a.batchlogWrites;
  const callWritesPerSecond = w.peakCallsPerSecond * perCall;
  const sampleWritesPerSecond = w.qualityReportsPerSecond * m.sampleWritesPerReport;
  const replicaWritesPerSecond = (callWritesPerSecond + sampleWritesPerSecond) * a.replicationFactor;
  // Samples stored over the TTL: average concurrency (from calls/day), not the peak.
  const avgSamplesPerSecond = (2 * w.avgConcurrentCalls) / a.qualityReportSeconds;
  const bytesPerSample = m.sampleBytesPerReport + m.sampleWritesPerReport * a.sampleRowOverheadBytes;
  const sampleStorageTb =
    (avgSamplesPerSecond * 86_400 * a.sampleTtlDays * bytesPerSample * a.replicationFactor) / 1e12;
  return {
    writeEquivalentsPerCall: perCall,
    callWritesPerSecond,
    sampleWritesPerSecond,
    replicaWritesPerSecond,
    sampleStorageTb,
    nodes: a.headrooms.map((h) => Math.ceil((replicaWritesPerSecond * h) / a.cassandraReplicaWritesPerNode)),
  };
}

/** TURN bandwidth for the relayed share of calls (each relayed call passes both directions through TURN). */
export function turnLoad(a: Assumptions) {
  const relayedCalls = a.concurrentCalls * a.relayedCallShare;
  const gbitPerDirection = (relayedCalls * 2 * a.mediaMbitPerDirection) / 1000;
  const avgRelayedCalls = workload(a).avgConcurrentCalls * a.relayedCallShare;
  return {
    relayedCalls,
    /** Into TURN and, the same again, out of it. */
    gbitPerDirection,
    petabytesPerDayOut: (avgRelayedCalls * 2 * a.mediaMbitPerDirection * 1e6 * 86_400) / 8 / 1e15,
    servers: a.headrooms.map((h) => Math.ceil((gbitPerDirection * h) / a.turnGbitPerServer)),
  };
}

const n = (x: number) => Math.round(x).toLocaleString("en-US");
const k = (x: number) => (x >= 1e6 ? `${(x / 1e6).toFixed(2)} M` : x >= 1e4 ? `${(x / 1e3).toFixed(0)} k` : n(x));

/** The capacity table: one row per resource, units needed at each headroom. */
export function capacityRows(m: MeasuredInputs, a: Assumptions): CapacityRow[] {
  const w = workload(a);
  const sig = signalingPods(m, a);
  const podsAtFirst = sig.pods[0] ?? 0;
  const etcd = etcdLoad(a, podsAtFirst);
  const dir = directoryLoad(m, a);
  const cass = cassandraLoad(m, a);
  const turn = turnLoad(a);
  const cpu = sig.cpu;
  return [
    {
      resource: "signaling pods, by memory",
      demand: `${k(w.connectedDevices)} connected devices (${k(w.devicesInCalls)} in calls + ${k(a.idleDevices)} idle)`,
      perUnit: `${n(sig.devicesPerPod)} devices/pod (${m.rssKbPerDevice.toFixed(1)} KB each, ${a.podMemoryGiB} GiB × ${a.usableMemoryShare})`,
      units: sig.byMemory,
    },
    {
      resource: "signaling pods, by CPU",
      demand: `${cpu.total.toFixed(1)} cores: quality ${cpu.qualityReports.toFixed(1)}, relay ${cpu.relayed.toFixed(1)}, forwarding ${cpu.forwarding.toFixed(1)}, calls ${cpu.callLifecycle.toFixed(1)}, connects ${cpu.connects.toFixed(1)}, idle ${cpu.idle.toFixed(1)}, RPS top-up ${cpu.rpsTopUp.toFixed(1)}`,
      perUnit: `${a.usableCoresPerPod} core/pod (one event loop)`,
      units: sig.byCpu,
    },
    {
      resource: "signaling pods (max of the two)",
      demand: `${k(w.commandsPerSecond)} commands/s peak (seed: ${k(a.peakRps)} RPS), ${n(w.peakCallsPerSecond)} call starts/s`,
      perUnit: `2-core, ${a.podMemoryGiB} GiB pods; binding: ${sig.binding.join("/")}`,
      units: sig.pods,
    },
    {
      resource: "etcd clusters (presence writes)",
      demand: `${k(etcd.writesPerSecond)} writes/s (${k(w.connectsPerSecond)} connects/s × ${a.etcdWritesPerSession}), ${k(etcd.keys)} keys, ${etcd.leases} leases per cluster (one per pod in each shard, ${etcd.keepalivesPerSecond.toFixed(0)} keepalives/s), ${k(etcd.watches)} per-user watches, fan-out ${k(etcd.watchEventsPerSecond)} events/s; writes, keys and watches split by user hash over the clusters`,
      perUnit: `${k(a.etcdWritesPerSecondPerCluster)} writes/s per 3-node cluster (assumed)`,
      units: etcd.clusters,
    },
    {
      resource: "etcd call directory (writes)",
      demand: `${k(dir.writesPerSecond)} transactions/s (${n(w.peakCallsPerSecond)} call starts/s × ${m.etcdDirectoryRevisionsPerCall}), ${(dir.bytes / 1e6).toFixed(0)} MB at ${k(a.concurrentCalls)} calls (${m.etcdDirectoryBytesPerCall.toFixed(0)} B each, ${(dir.quotaShare * 100).toFixed(1)}% of a ${a.etcdQuotaGiB} GiB quota)`,
      perUnit: `${k(a.etcdWritesPerSecondPerCluster)} writes/s per 3-node cluster (assumed)`,
      units: dir.clusters,
    },
    {
      resource: "Cassandra nodes",
      demand: `${k(cass.replicaWritesPerSecond)} replica writes/s = (${k(cass.callWritesPerSecond)} call + ${k(cass.sampleWritesPerSecond)} sample writes/s) × RF ${a.replicationFactor}; samples on disk ${cass.sampleStorageTb.toFixed(0)} TB (${a.sampleTtlDays} d TTL)`,
      perUnit: `${k(a.cassandraReplicaWritesPerNode)} replica writes/s per node (assumed)`,
      units: cass.nodes,
    },
    {
      resource: "TURN servers",
      demand: `${k(turn.relayedCalls)} relayed calls × 2 × ${a.mediaMbitPerDirection} Mbit/s = ${n(turn.gbitPerDirection)} Gbit/s in and out; ${turn.petabytesPerDayOut.toFixed(2)} PB/day out`,
      perUnit: `${a.turnGbitPerServer} Gbit/s per direction per server (assumed)`,
      units: turn.servers,
    },
  ];
}
