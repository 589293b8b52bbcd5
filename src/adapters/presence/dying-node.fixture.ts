/**
 * A presence node in its own process, for node-death tests: joins the cluster, announces
 * the devices given on the command line, prints "ready", then idles until killed.
 * Usage: node dying-node.fixture.ts <etcd host:port[,…]> <key prefix> <nodeId> <ttl s> <user/device>...
 * (one etcd per presence shard, comma-separated).
 */
import { pino } from "pino";
import { Registry } from "prom-client";
import { createEtcdPresence } from "./etcd-presence.ts";

const [endpoints = "", keyPrefix, nodeId = "", ttl = "2", ...devices] = process.argv.slice(2);
const presence = await createEtcdPresence({
  nodeId,
  address: "127.0.0.1:1",
  shards: endpoints.split(",").map((endpoint) => [endpoint]),
  keyPrefix,
  leaseTtlSeconds: Number(ttl),
  logger: pino({ level: "silent" }),
  registry: new Registry(),
});
for (const device of devices) {
  const [userId = "", deviceId = ""] = device.split("/");
  await presence.announce({ userId, deviceId, sessionId: `${nodeId}-${deviceId}` });
}
process.stdout.write("ready\n");
setInterval(() => {}, 60_000);
