import { createParentLink } from "../../../lib/child-side.ts";
import type { GcDoneMessage, ListeningMessage } from "../protocol.ts";

/** Longest a server child may live: the full run stays well under this. */
const maxLifetimeMs = 15 * 60_000;

/**
 * Runs a relay server as a harness child: `listen()` binds 127.0.0.1 on a free port; the child
 * then reports `listening`, answers `gc` (needs --expose-gc) with heap figures, and exits when
 * the harness disconnects.
 */
export async function runServerChild(listen: () => Promise<number>): Promise<void> {
  const parent = createParentLink(maxLifetimeMs);
  parent.on("gc", () => {
    globalThis.gc?.();
    globalThis.gc?.();
    const m = process.memoryUsage();
    const reply: GcDoneMessage = { type: "gc-done", heapUsedBytes: m.heapUsed, externalBytes: m.external };
    parent.send(reply);
  });
  const port = await listen();
  const listening: ListeningMessage = { type: "listening", port };
  parent.send(listening);
}
