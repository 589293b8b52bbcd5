/**
 * Runs inside a browser's private network namespace (see netns-peer.ts), where only `lo`
 * exists: listens on 127.0.0.1:<port> for each `<port>=<unix socket>` argument and joins every
 * connection to that unix socket, which a bridge outside the namespace joins to the real
 * server. Unix sockets live in the file system, not in a network namespace, so TCP to these
 * ports is the namespace's only way out; no UDP leaves it. Writes `<ready file>` once every
 * port listens.
 * usage: node netns-forwarder.ts <ready file> <port>=<socket> ...
 */
import { writeFileSync } from "node:fs";
import { connect, createServer } from "node:net";

const [ready, ...routes] = process.argv.slice(2);
if (!ready || routes.length === 0) throw new Error("usage: netns-forwarder.ts <ready file> <port>=<socket> ...");

await Promise.all(
  routes.map((route) => {
    const [port, socket] = route.split("=") as [string, string];
    const server = createServer((client) => {
      const upstream = connect(socket);
      for (const s of [client, upstream]) {
        s.on("error", () => {
          client.destroy();
          upstream.destroy();
        });
      }
      client.pipe(upstream).pipe(client);
    });
    return new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      server.listen(Number(port), "127.0.0.1", () => resolve());
    });
  }),
);
writeFileSync(ready, "");
