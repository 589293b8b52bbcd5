/**
 * Is a node's process gone? A TCP connection to its internal port that the host refuses
 * (RST: nothing listens there) says yes at once, long before its etcd lease expires. A host
 * that does not answer, or any other error, says nothing: the lease decides those.
 */
import { connect } from "node:net";

/** How long a probe waits for any answer before it gives up (and reports "not refused"). */
const PROBE_TIMEOUT_MS = 1_000;

/** True when `address` (host:port) refuses a TCP connection now. */
export function refusesConnections(address: string): Promise<boolean> {
  const colon = address.lastIndexOf(":");
  const host = address.slice(0, colon).replace(/^\[|\]$/g, "");
  const port = Number(address.slice(colon + 1));
  return new Promise((resolve) => {
    const socket = connect({ host, port, timeout: PROBE_TIMEOUT_MS });
    const done = (refused: boolean) => {
      socket.destroy();
      resolve(refused);
    };
    socket.once("connect", () => done(false));
    socket.once("timeout", () => done(false));
    socket.once("error", (err: NodeJS.ErrnoException) => done(err.code === "ECONNREFUSED"));
  });
}
