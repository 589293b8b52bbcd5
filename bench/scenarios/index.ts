import type { Scenario } from "../lib/scenario.ts";
import callDirectory from "./call-directory/index.ts";
import callEvents from "./call-events/index.ts";
import callStorm from "./call-storm/index.ts";
import capacity from "./capacity/index.ts";
import clusterForwarding from "./cluster-forwarding/index.ts";
import idleDevices from "./idle-devices/index.ts";
import presenceScale from "./presence-scale/index.ts";
import qualityReports from "./quality-reports/index.ts";
import relayCompare from "./relay-compare/index.ts";
import relayTransport from "./relay-transport/index.ts";
import steadyCalls from "./steady-calls/index.ts";

/**
 * Every scenario `npm run bench` knows, in default run order. Add new ones here. `capacity`
 * comes last: it reads the figures the others measured. relay-transport (transport-only
 * comparison incl. bare connect-node), cluster-forwarding (a 2-node cluster with etcd),
 * presence-scale (etcd fan-out against the node count), call-directory (etcd bytes and writes
 * per call) and call-events (steady calls twice, with and without event consumers) are left out
 * of a plain `--quick` run to keep it under two minutes; relay-compare carries the side-by-side anchors there.
 */
export const scenarios: Scenario[] = [
  { ...relayTransport, quickByDefault: false },
  relayCompare,
  callStorm,
  steadyCalls,
  qualityReports,
  { ...callEvents, quickByDefault: false },
  idleDevices,
  { ...clusterForwarding, quickByDefault: false },
  { ...presenceScale, quickByDefault: false },
  { ...callDirectory, quickByDefault: false },
  capacity,
];
