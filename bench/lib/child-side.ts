import type { IpcMessage } from "./children.ts";

/**
 * Child-process side of the harness IPC: exits when the parent goes away (so no child outlives
 * the harness), and caps the child's lifetime at `maxLifetimeMs` as a last resort.
 */
export function createParentLink(maxLifetimeMs: number): {
  send(message: IpcMessage): void;
  on(type: string, handler: (message: IpcMessage) => void): void;
} {
  if (!process.send) throw new Error("must be started by the bench harness (no IPC channel)");
  process.on("disconnect", () => process.exit(0));
  setTimeout(() => {
    process.stderr.write(`error: lifetime cap of ${maxLifetimeMs} ms reached, exiting\n`);
    process.exit(3);
  }, maxLifetimeMs).unref();
  const handlers = new Map<string, (message: IpcMessage) => void>();
  process.on("message", (m: IpcMessage) => handlers.get(m.type)?.(m));
  return {
    send(message) {
      process.send?.(message);
    },
    on(type, handler) {
      handlers.set(type, handler);
    },
  };
}
