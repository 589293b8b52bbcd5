/**
 * etcd for tests. `sharedEtcdEndpoint()` is the etcd `npm test` started (never stopped by a
 * test: other test files use it concurrently). Tests that stop or restart etcd start a
 * private one with `startPrivateEtcd()` (same binary, own ports and data dir).
 */
import { type EtcdProcess, launchEtcd } from "../../scripts/services/etcd.ts";

export type { EtcdProcess };

/** host:port of the shared test etcd; throws a clear error when `npm test` did not start one. */
export function sharedEtcdEndpoint(): string {
  const endpoint = process.env.CALLDROP_TEST_ETCD;
  if (!endpoint) {
    throw new Error(
      "CALLDROP_TEST_ETCD is not set: run through `npm test` (scripts/services/etcd.ts starts etcd), " +
        "or start etcd yourself and set CALLDROP_TEST_ETCD=127.0.0.1:<client port>",
    );
  }
  return endpoint;
}

/**
 * Starts a private etcd that the caller may stop/start/kill; the caller must `destroy()` it.
 * Uses the binary from CALLDROP_TEST_ETCD_BIN (set by `npm test`), requiring the shared
 * etcd's variables so a missing setup fails loudly rather than skipping.
 */
export async function startPrivateEtcd(): Promise<EtcdProcess> {
  sharedEtcdEndpoint();
  return launchEtcd(process.env.CALLDROP_TEST_ETCD_BIN || undefined);
}
