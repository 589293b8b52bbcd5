/**
 * The page of test/browser/cors.test.ts: the web client's own API module (web/src/api.ts)
 * on a page of another origin than the server, as `window.corsProbe(baseUrl, token)`.
 */
import { Code, ConnectError } from "@connectrpc/connect";
import { createApi } from "../../web/src/api.ts";

/** What one probe saw: "ok" or the Connect code and message, for a unary and a server-streaming call. */
export interface CorsProbeResult {
  readonly unary: string;
  readonly stream: string;
}

async function outcome(call: () => Promise<string>): Promise<string> {
  try {
    return await call();
  } catch (err) {
    const ce = ConnectError.from(err);
    return `${Code[ce.code]}: ${ce.rawMessage}`;
  }
}

async function corsProbe(baseUrl: string, token: string): Promise<CorsProbeResult> {
  const api = createApi(baseUrl, () => token);
  const unary = await outcome(async () => {
    await api.signal.getIceServers({});
    return "ok";
  });
  const stream = await outcome(async () => {
    for await (const res of api.signal.subscribe({ hello: { deviceId: "cors-page" } })) {
      if (res.event?.kind.case === "sessionReady") return "ok"; // leaving the loop cancels the stream
    }
    return "the stream ended without sessionReady";
  });
  return { unary, stream };
}

Object.assign(window, { corsProbe });
