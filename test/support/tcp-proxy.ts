/**
 * A TCP proxy between a server under test and a shared engine (e.g. the test Cassandra), so a
 * test can take the engine away from that one server without stopping it for everyone else:
 * `cut()` drops every connection and refuses new ones (ECONNREFUSED), `restore()` accepts again
 * on the same port.
 */
import { connect, createServer, type Server, type Socket } from "node:net";

/** A running proxy. */
export interface TcpProxy {
  /** host:port to give the server instead of the engine's. */
  readonly address: string;
  /** Drops every connection and closes the port: connecting is refused until `restore`. */
  cut(): Promise<void>;
  /** Listens again on the same port. */
  restore(): Promise<void>;
  close(): Promise<void>;
}

/** Starts a proxy to `target` (host:port); `{ down: true }` starts it cut (port reserved, nothing listening). */
export async function startTcpProxy(target: string, options: { down?: boolean } = {}): Promise<TcpProxy> {
  const [host, port] = splitAddress(target);
  const sockets = new Set<Socket>();
  let server: Server | undefined;
  const listen = (onPort: number) =>
    new Promise<number>((resolve, reject) => {
      const s = createServer((client) => {
        const upstream = connect(port, host);
        for (const sock of [client, upstream]) {
          sockets.add(sock);
          sock.on("close", () => sockets.delete(sock));
          sock.on("error", () => {
            client.destroy();
            upstream.destroy();
          });
        }
        client.pipe(upstream).pipe(client);
      });
      s.once("error", reject);
      s.listen(onPort, "127.0.0.1", () => {
        server = s;
        resolve((s.address() as { port: number }).port);
      });
    });
  const stop = async () => {
    const s = server;
    server = undefined;
    for (const sock of sockets) sock.destroy();
    if (s) await new Promise<void>((resolve) => s.close(() => resolve()));
  };
  const own = await listen(0);
  if (options.down) await stop();
  return {
    address: `127.0.0.1:${own}`,
    cut: stop,
    async restore() {
      if (!server) await listen(own);
    },
    close: stop,
  };
}

function splitAddress(address: string): [string, number] {
  const i = address.lastIndexOf(":");
  return [address.slice(0, i), Number(address.slice(i + 1))];
}
