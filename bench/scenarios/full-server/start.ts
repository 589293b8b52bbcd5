import type { Child, Children } from "../../lib/children.ts";
import type { ListeningMessage } from "../relay-transport/protocol.ts";

/** How the full server serves HTTP/2 (gRPC): config `server.http2Engine`. */
export type Http2Engine = "grpc-js" | "connect-node";

/** A running full server child. */
export type FullServer = { child: Child; port: number; engine: Http2Engine };

/** Per-user rate limits high enough that the bench measures the server, not its flood guard. */
export const benchLimits = {
  callStartsBurst: 1_000_000,
  callStartsPerSecond: 1_000_000,
  messagesBurst: 1_000_000,
  messagesPerSecond: 1_000_000,
};

/**
 * Starts the real server (src/compose.ts) as a harness child with `engine` and raised rate
 * limits (plus `overrides`, a config tree), with --expose-gc so idle memory can be settled.
 */
export async function startFullServer(
  children: Children,
  engine: Http2Engine,
  overrides: object = {},
): Promise<FullServer> {
  const child = children.spawn(`calldrop-${engine}`, `${import.meta.dirname}/server-child.ts`, {
    execArgv: ["--expose-gc"],
  });
  child.send({ type: "start", overrides: { server: { http2Engine: engine }, limits: benchLimits, ...overrides } });
  const { port } = await child.waitFor<ListeningMessage>("listening", 30_000);
  return { child, port, engine };
}
