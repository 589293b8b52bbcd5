/**
 * Webhook partition claims on etcd (docs/spec.md §9 "Webhooks"): which node of a cluster delivers
 * each partition of each endpoint. Every node registers itself under `<prefix>nodes/` on its own
 * lease and, every `intervalMs`, computes the deliverer of each (endpoint, partition) over the
 * registered nodes by rendezvous hashing (domain/webhooks.ts). The winner claims
 * `<prefix>claims/<endpoint>/<partition>` on its lease, only if nobody holds it: the claim, not the
 * hash, is what makes one node at a time deliver, so two nodes that briefly see different node
 * lists never both deliver. A node that stops winning (a node joined) stops its worker first and
 * deletes its claim one tick later; a node that dies loses its lease after the TTL, its claims
 * vanish with it, and the winners among the survivors claim them and continue from the stored
 * cursors. A node whose lease is lost (cut off from etcd) stops delivering at once.
 */
import { Etcd3, type Lease } from "etcd3";
import type { Logger } from "pino";
import type { Clock, TimerHandle } from "../../app/ports/clock.ts";
import type { PartitionClaims } from "../../app/ports/partition-claims.ts";
import { eventPartitionCount } from "../../domain/call-events.ts";
import { deliveringNode } from "../../domain/webhooks.ts";

/** Options of `createEtcdPartitionClaims`. */
export interface EtcdPartitionClaimsOptions {
  /** etcd client endpoints, host:port. */
  readonly endpoints: readonly string[];
  /** Key prefix, ending in "/". */
  readonly keyPrefix: string;
  readonly nodeId: string;
  readonly leaseTtlS: number;
  /** The configured endpoints' names. */
  readonly webhookEndpoints: readonly string[];
  readonly intervalMs: number;
  readonly clock: Clock;
  readonly logger: Logger;
}

/** Starts claiming at once (the first claims land within one tick). */
export function createEtcdPartitionClaims(options: EtcdPartitionClaimsOptions): PartitionClaims {
  const { clock, logger, nodeId, keyPrefix } = options;
  const client = new Etcd3({ hosts: options.endpoints.map((e) => `http://${e}`) });
  const nodesPrefix = `${keyPrefix}nodes/`;
  const claimsPrefix = `${keyPrefix}claims/`;
  const held = new Set<string>();
  let lease: Lease | undefined;
  let timer: TimerHandle | undefined;
  let closed = false;
  let running: Promise<void> = Promise.resolve();

  async function ensureLease(): Promise<Lease> {
    if (lease && !lease.revoked()) return lease;
    const fresh = client.lease(options.leaseTtlS, { autoKeepAlive: true });
    fresh.on("lost", (err: Error) => {
      if (lease !== fresh) return;
      held.clear();
      lease = undefined;
      logger.warn({ err }, "webhook claims lease lost; this node stops delivering until it claims again");
    });
    await fresh.grant();
    await fresh.put(`${nodesPrefix}${nodeId}`).value("");
    lease = fresh;
    return fresh;
  }

  async function tick(): Promise<void> {
    const mine = await ensureLease();
    const leaseId = await mine.grant();
    const nodes = (await client.getAll().prefix(nodesPrefix).keys()).map((k) => k.slice(nodesPrefix.length));
    if (!nodes.includes(nodeId)) {
      await mine.put(`${nodesPrefix}${nodeId}`).value("");
      nodes.push(nodeId);
    }
    const holders = await client.getAll().prefix(claimsPrefix).strings();
    for (const endpoint of options.webhookEndpoints) {
      for (let p = 0; p < eventPartitionCount; p++) {
        const key = `${endpoint}/${p}`;
        const etcdKey = `${claimsPrefix}${key}`;
        const holder = holders[etcdKey];
        if (deliveringNode(nodes, endpoint, p) === nodeId) {
          if (holder === nodeId) {
            held.add(key);
          } else if (holder === undefined) {
            const won = await client
              .if(etcdKey, "Create", "==", 0)
              .then(client.put(etcdKey).value(nodeId).lease(leaseId))
              .commit();
            if (won.succeeded && lease === mine) held.add(key);
          } else {
            held.delete(key); // another node still holds it (releasing it, or its lease not yet expired)
          }
        } else if (holder === nodeId) {
          // Stop the worker first (the dispatcher sees it within its check interval), release next tick.
          if (held.delete(key)) continue;
          await client.if(etcdKey, "Value", "==", nodeId).then(client.delete().key(etcdKey)).commit();
        } else {
          held.delete(key);
        }
      }
    }
  }

  function schedule() {
    if (closed) return;
    running = tick().catch((err: unknown) => {
      logger.warn({ err }, "webhook claims check failed; retrying");
    });
    running.finally(() => {
      if (!closed) timer = clock.setTimer(options.intervalMs, schedule);
    });
  }
  schedule();

  return {
    owns: (endpoint, partition) => held.has(`${endpoint}/${partition}`),
    async close() {
      if (closed) return;
      closed = true;
      if (timer) clock.clearTimer(timer);
      await running;
      held.clear();
      // Revoking deletes the node key and every claim: the others take over at their next tick.
      await lease?.revoke().catch(() => {});
      client.close();
    },
  };
}
