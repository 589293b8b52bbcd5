/** Test helpers for relay: nodes with a server and links on 127.0.0.1, a cuttable TCP proxy, frames. */
import { createServer, type Socket, connect as tcpConnect } from "node:net";
import { create } from "@bufbuild/protobuf";
import { pino } from "pino";
import { Registry } from "prom-client";
import { DeliverSchema } from "../../../gen/calldrop/internal/v1/relay_pb.js";
import { ServerEventSchema } from "../../../gen/calldrop/v1/signal_pb.js";
import type { RelayBody } from "./relay-grpc.ts";
import { createRelayLinks, type RelayLinks } from "./relay-links.ts";
import { createRelayMetrics, type RelayMetrics } from "./relay-metrics.ts";
import { type RelayServer, startRelayServer } from "./relay-server.ts";

export const SECRET = "test-relay-secret-0123456789";
export const clock = { now: () => Date.now() };
export const logger = pino({ level: process.env.CALLDROP_TEST_LOG_LEVEL ?? "silent" });

/** A Deliver frame whose event carries `n` (as sent_at_ms) so tests can check order. */
export function deliver(n: number): RelayBody {
  const event = create(ServerEventSchema, { sentAtMs: BigInt(n) });
  return { case: "deliver", value: create(DeliverSchema, { userId: "u1", deviceId: "d1", event }) };
}

/** The numbers of the Deliver frames a node received, in arrival order. */
export function numbers(frames: readonly { body: RelayBody }[]): number[] {
  return frames.flatMap((f) => (f.body.case === "deliver" ? [Number(f.body.value.event?.sentAtMs)] : []));
}

/** A relay node: its server, its outbound links and everything it received. */
export interface TestRelayNode {
  readonly nodeId: string;
  readonly server: RelayServer;
  readonly links: RelayLinks;
  readonly metrics: RelayMetrics;
  readonly registry: Registry;
  readonly received: { from: string; body: RelayBody }[];
  close(): Promise<void>;
}

/** Starts a node; `addresses` maps peer ids to host:port (tests may point them at a proxy). */
export async function startRelayNode(
  nodeId: string,
  addresses: Map<string, string>,
  options: {
    ackDelayMs?: number;
    secret?: string;
    maxUnacked?: number;
    onFrame?: (from: string, body: RelayBody) => void;
  } = {},
): Promise<TestRelayNode> {
  const registry = new Registry();
  const metrics = createRelayMetrics(registry);
  const received: { from: string; body: RelayBody }[] = [];
  const common = { clock, logger, metrics };
  const server = await startRelayServer({
    ...common,
    secrets: [SECRET],
    nodeId,
    port: 0,
    ackDelayMs: options.ackDelayMs,
    onFrame: (from, body) => {
      received.push({ from, body });
      options.onFrame?.(from, body);
    },
  });
  const links = createRelayLinks({
    ...common,
    secret: options.secret ?? SECRET,
    selfNodeId: nodeId,
    maxUnacked: options.maxUnacked,
    reconnectDelay: { initialMs: 20, maxMs: 200 },
    resolveAddress: (peer) => addresses.get(peer),
  });
  return {
    nodeId,
    server,
    links,
    metrics,
    registry,
    received,
    async close() {
      links.close();
      await server.close();
    },
  };
}

/** A TCP proxy to 127.0.0.1:`targetPort` whose connections can be cut (a network blip). */
export async function startProxy(targetPort: number) {
  const sockets = new Set<Socket>();
  const server = createServer((inbound) => {
    const outbound = tcpConnect(targetPort, "127.0.0.1");
    for (const [a, b] of [
      [inbound, outbound],
      [outbound, inbound],
    ] as const) {
      sockets.add(a);
      a.on("error", () => b.destroy());
      a.on("close", () => {
        sockets.delete(a);
        b.destroy();
      });
      a.pipe(b);
    }
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const cut = () => {
    for (const s of sockets) s.destroy();
  };
  return {
    address: `127.0.0.1:${(server.address() as { port: number }).port}`,
    /** Destroys every open connection; new connections still go through. */
    cut,
    close: () => {
      cut();
      return new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
