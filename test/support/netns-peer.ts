/**
 * A browser with no UDP way out: Chromium in its own network namespace (`unshare -n`, only
 * `lo`), where the only exits are TCP ports on 127.0.0.1 forwarded through unix sockets to
 * the same ports on the host (netns-forwarder.ts inside, a bridge here outside). Pages use
 * the host's addresses unchanged (e.g. http://127.0.0.1:<server port>); any port not
 * forwarded, and every UDP packet, reaches nothing. Needs root (unshare, as on the test
 * machine). Started through an executablePath wrapper script, so Playwright drives it as usual.
 */
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { connect, createServer, type Server, type Socket } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { chromiumPath, launchPeer, type Peer } from "./browser.ts";

const FORWARDER = join(import.meta.dirname, "netns-forwarder.ts");

/** Launches `name` in a namespace whose only exits are TCP to 127.0.0.1:`ports` of the host. */
export async function launchIsolatedPeer(
  name: string,
  ports: readonly number[],
  extraArgs: readonly string[] = [],
): Promise<Peer> {
  const dir = mkdtempSync(join(tmpdir(), `calldrop-netns-${name}-`));
  const bridges = await Promise.all(ports.map((port) => bridge(join(dir, `${port}.sock`), port)));
  const routes = ports.map((port) => `${port}=${join(dir, `${port}.sock`)}`).join(" ");
  const ready = join(dir, "ready");
  const wrapper = join(dir, "chromium-in-netns.sh");
  // Playwright talks to Chromium over fds 3 and 4: the forwarder must not hold them. Playwright
  // kills the process group on a forced close, which takes the forwarder with it.
  writeFileSync(
    wrapper,
    `#!/bin/sh
set -e
if [ -z "$CALLDROP_IN_NETNS" ]; then CALLDROP_IN_NETNS=1 exec unshare -n -- "$0" "$@"; fi
ip link set lo up
"${process.execPath}" "${FORWARDER}" "${ready}" ${routes} 3>&- 4>&- &
forwarder=$!
i=0
until [ -e "${ready}" ]; do
  kill -0 "$forwarder" 2>/dev/null || { echo "netns forwarder died" >&2; exit 1; }
  i=$((i + 1)); [ "$i" -lt 200 ] || { echo "netns forwarder not ready" >&2; exit 1; }
  sleep 0.05
done
set +e
"${chromiumPath()}" "$@"
status=$?
kill "$forwarder" 2>/dev/null
exit "$status"
`,
  );
  chmodSync(wrapper, 0o755);
  const peer = await launchPeer(name, extraArgs, undefined, wrapper).catch(async (e) => {
    await Promise.all(bridges.map((b) => b.close()));
    throw e;
  });
  return {
    ...peer,
    async close() {
      await peer.close();
      await Promise.all(bridges.map((b) => b.close()));
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** A unix socket at `path` whose every connection is joined to 127.0.0.1:`port`. */
async function bridge(path: string, port: number): Promise<{ close(): Promise<void> }> {
  const sockets = new Set<Socket>();
  const server: Server = createServer((inner) => {
    const outer = connect(port, "127.0.0.1");
    for (const s of [inner, outer]) {
      sockets.add(s);
      s.on("close", () => sockets.delete(s));
      s.on("error", () => {
        inner.destroy();
        outer.destroy();
      });
    }
    inner.pipe(outer).pipe(inner);
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(path, () => resolve());
  });
  return {
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}
