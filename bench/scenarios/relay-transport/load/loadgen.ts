/**
 * Child process: the load generator. Receives `start` with a LoadSpec, opens the pairs, drives
 * the phase, reports `measure-start`/`measure-end` (the harness samples the server's CPU between
 * them) and finally `result` with a LoadResult, then exits.
 */
import { setTimeout as sleep } from "node:timers/promises";
import { createParentLink } from "../../../lib/child-side.ts";
import { createCalldropTransport } from "../../relay-compare/calldrop-transport.ts";
import type { LoadResult, LoadSpec } from "../protocol.ts";
import { createGrpcTransport } from "./grpc-transport.ts";
import type { Transport } from "./link.ts";
import { closePairs, createErrorLog, openPairs } from "./pairs.ts";
import { createRoundTrips } from "./round-trips.ts";
import { createWsTransport } from "./ws-transport.ts";

/** SDP bytes per message: the relayed protobuf/JSON message is then about 1 KB. */
const sdpBytes = 950;
const drainMs = 5000;
const parent = createParentLink(5 * 60_000);

async function run(spec: LoadSpec): Promise<LoadResult> {
  const transports: Record<LoadSpec["transport"], (port: number, sdpBytes: number) => Transport> = {
    grpc: createGrpcTransport,
    ws: createWsTransport,
    calldrop: createCalldropTransport,
  };
  const transport = transports[spec.transport](spec.port, sdpBytes);
  const errors = createErrorLog();
  const trips = createRoundTrips(() => performance.now());
  let sending = spec.mode === "saturated";
  const pairsRef: { current?: Awaited<ReturnType<typeof openPairs>> } = {};
  const sendOffer = (i: number) => {
    const pair = pairsRef.current?.get(i);
    if (!pair) return;
    trips.sent(i);
    pair.a.sendOffer();
  };
  const onAnswer = (i: number) => {
    if (!trips.answered(i)) errors.add(`answer without offer on pair ${i}`);
    else if (spec.mode === "saturated" && sending) sendOffer(i);
  };

  const t0 = performance.now();
  const pairs = await openPairs(transport, spec.pairs, { onAnswer }, errors);
  pairsRef.current = pairs;
  const openMs = performance.now() - t0;

  if (spec.mode === "idle") {
    parent.send({ type: "opened", streams: pairs.size * 2, openMs });
    await new Promise<void>((resolve) => parent.on("release", () => resolve()));
  } else {
    const timers: NodeJS.Timeout[] = [];
    if (spec.mode === "saturated") {
      for (const i of pairs.keys()) for (let k = 0; k < spec.inFlight; k++) sendOffer(i);
    } else {
      const periodMs = 1000 / spec.roundTripsPerSecond;
      for (const i of pairs.keys()) {
        // Spread the pairs' phases over one period so the load is smooth, not a burst per second.
        const start = setTimeout(
          () => timers.push(setInterval(() => sendOffer(i), periodMs)),
          Math.random() * periodMs,
        );
        timers.push(start);
      }
    }
    await sleep(spec.warmupMs);
    trips.openWindow();
    parent.send({ type: "measure-start" });
    await sleep(spec.measureMs);
    trips.closeWindow();
    parent.send({ type: "measure-end" });
    sending = false;
    for (const t of timers) clearTimeout(t);
    const drainUntil = performance.now() + drainMs;
    while (trips.totalOutstanding() > 0 && performance.now() < drainUntil) await sleep(20);
  }
  const result = trips.result({ errors: errors.count, errorSamples: errors.samples, openMs });
  await closePairs(pairs);
  return result;
}

parent.on("start", (message) => {
  run(message.spec as LoadSpec).then(
    (result) => process.send?.({ type: "result", result }, () => process.exit(0)),
    (e: unknown) => {
      process.stderr.write(`error: ${(e as Error).stack ?? String(e)}\n`);
      process.exit(2);
    },
  );
});
