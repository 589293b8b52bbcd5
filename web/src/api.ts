/**
 * The browser's only way to the server: Connect-Web clients for SignalService,
 * CallHistoryService, BlockService and CallSettingsService on the page's origin, with the bearer token on every call.
 */
import { type Client, createClient, type Interceptor } from "@connectrpc/connect";
import { createConnectTransport } from "@connectrpc/connect-web";
import { BlockService } from "../../gen/calldrop/v1/block_pb.js";
import { CallHistoryService } from "../../gen/calldrop/v1/history_pb.js";
import { CallSettingsService } from "../../gen/calldrop/v1/settings_pb.js";
import { SignalService } from "../../gen/calldrop/v1/signal_pb.js";

/** Typed clients of the services. */
export interface Api {
  readonly signal: Client<typeof SignalService>;
  readonly history: Client<typeof CallHistoryService>;
  readonly blocks: Client<typeof BlockService>;
  readonly settings: Client<typeof CallSettingsService>;
}

/** Builds the clients; `token()` is read on every request (so sign-in can change it). */
export function createApi(baseUrl: string, token: () => string): Api {
  const auth: Interceptor = (next) => (req) => {
    req.header.set("Authorization", `Bearer ${token()}`);
    return next(req);
  };
  // Binary protobuf: smaller SDP-heavy messages; JSON works too but is not needed.
  const transport = createConnectTransport({ baseUrl, useBinaryFormat: true, interceptors: [auth] });
  return {
    signal: createClient(SignalService, transport),
    history: createClient(CallHistoryService, transport),
    blocks: createClient(BlockService, transport),
    settings: createClient(CallSettingsService, transport),
  };
}

/** Local mode only: asks the server's dev issuer for a token for `userId`. */
export async function fetchDevToken(baseUrl: string, userId: string): Promise<string> {
  const res = await fetch(`${baseUrl}/dev/token?user=${encodeURIComponent(userId)}`);
  if (!res.ok) throw new Error(`sign-in failed (${res.status}): ${(await res.text()).slice(0, 200)}`);
  const body = (await res.json()) as { token?: unknown };
  if (typeof body.token !== "string") throw new Error("sign-in failed: no token in the answer");
  return body.token;
}
