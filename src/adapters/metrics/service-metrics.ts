/**
 * The service's Prometheus metrics (docs/spec.md §11, docs/style.md 15): `calldrop_` prefix,
 * base units, `_total` counters, no user or call ids as labels, known label sets
 * initialised at 0, registered on an injected registry: the Prometheus side of the
 * Metrics port (src/app/ports/metrics.ts).
 */
import { Counter, Gauge, Histogram, type Registry } from "prom-client";
import type { Metrics } from "../../app/ports/metrics.ts";
import type { Outcome, PathType } from "../../domain/call-types.ts";

const outcomes: readonly Outcome[] = ["completed", "missed", "declined", "cancelled", "busy", "unreachable", "failed"];
const paths: readonly PathType[] = ["p2p", "relay"];
const latencyBuckets = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5];
const setupBuckets = [0.01, 0.05, 0.1, 0.25, 0.5, 0.75, 1, 1.5, 2, 3, 5, 10, 30];

/** Creates and registers every metric of the service. */
export function createMetrics(registry: Registry, build: { version: string }): Metrics {
  const registers = [registry];
  const metrics = {
    rpcStarted: new Counter({
      name: "calldrop_rpc_started_total",
      help: "RPCs started, by service and method.",
      labelNames: ["service", "method"] as const,
      registers,
    }),
    rpcHandled: new Counter({
      name: "calldrop_rpc_handled_total",
      help: "RPCs completed, by service, method and status code.",
      labelNames: ["service", "method", "code"] as const,
      registers,
    }),
    rpcDuration: new Histogram({
      name: "calldrop_rpc_duration_seconds",
      help: "RPC duration (unary: to response; streams: whole stream life).",
      labelNames: ["service", "method"] as const,
      buckets: latencyBuckets,
      registers,
    }),
    rpcInFlight: new Gauge({
      name: "calldrop_rpc_in_flight",
      help: "RPCs in progress, including open streams.",
      labelNames: ["service", "method"] as const,
      registers,
    }),
    signalHop: new Histogram({
      name: "calldrop_signal_hop_seconds",
      help: "Server time from receiving a command to queuing the resulting event on the peer's session.",
      buckets: latencyBuckets,
      registers,
    }),
    callSetup: new Histogram({
      name: "calldrop_call_setup_seconds",
      help: "Call setup: start to ringing (server), accept to media connected (reported by clients).",
      labelNames: ["phase", "path"] as const,
      buckets: setupBuckets,
      registers,
    }),
    callsStarted: new Counter({ name: "calldrop_calls_started_total", help: "Calls started.", registers }),
    callsEnded: new Counter({
      name: "calldrop_calls_ended_total",
      help: "Calls ended, by outcome (recorded once per call).",
      labelNames: ["outcome"] as const,
      registers,
    }),
    callsActive: new Gauge({
      name: "calldrop_calls_active",
      help: "Calls ringing or in progress on this node.",
      registers,
    }),
    sessionsConnected: new Gauge({
      name: "calldrop_sessions_connected",
      help: "Device sessions with an attached stream, by transport.",
      labelNames: ["transport"] as const,
      registers,
    }),
    mediaPath: new Counter({
      name: "calldrop_media_path_total",
      help: "Calls whose media connected, by path (p2p or relay).",
      labelNames: ["path"] as const,
      registers,
    }),
    storeDuration: new Histogram({
      name: "calldrop_store_operation_seconds",
      help: "Call store operation latency.",
      labelNames: ["store", "operation"] as const,
      buckets: latencyBuckets,
      registers,
    }),
    storeErrors: new Counter({
      name: "calldrop_store_errors_total",
      help: "Call store operations that failed.",
      labelNames: ["store", "operation"] as const,
      registers,
    }),
    rateLimited: new Counter({
      name: "calldrop_rate_limited_total",
      help: "Commands refused by a rate limit.",
      labelNames: ["kind"] as const,
      registers,
    }),
    buildInfo: new Gauge({
      name: "calldrop_build_info",
      help: "Build information (value 1).",
      labelNames: ["version", "node_version"] as const,
      registers,
    }),
  };
  for (const outcome of outcomes) metrics.callsEnded.inc({ outcome }, 0);
  for (const path of paths) metrics.mediaPath.inc({ path }, 0);
  for (const kind of ["call_start", "message"]) metrics.rateLimited.inc({ kind }, 0);
  for (const transport of ["grpc", "connect"]) metrics.sessionsConnected.set({ transport }, 0);
  metrics.buildInfo.set({ version: build.version, node_version: process.version }, 1);
  return metrics;
}
