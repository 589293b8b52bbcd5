/**
 * connect-node's request handler, built as `connectNodeAdapter` builds it (from the public
 * parts of @connectrpc/connect-node), with one correction. A unary request whose body does not
 * decode (not the method's protobuf, a compressed frame without an encoding, an empty frame)
 * fails inside connect-es before any interceptor runs, reported as internal or unimplemented
 * (error-codes.ts). Its answer is rewritten to the invalid_argument the interceptors give the
 * same fault on a stream, in the framing of its protocol, and, like every request refused before
 * the interceptors ran, counted in the RPC metrics.
 */
import { Code, ConnectError, createConnectRouter } from "@connectrpc/connect";
import { encodeEnvelope, readAllBytes, type UniversalServerResponse } from "@connectrpc/connect/protocol";
import { codeToHttpStatus, errorFromJsonBytes, errorToJsonBytes } from "@connectrpc/connect/protocol-connect";
import { findTrailerError, setTrailerStatus } from "@connectrpc/connect/protocol-grpc";
import { trailerFlag, trailerParse, trailerSerialize } from "@connectrpc/connect/protocol-grpc-web";
import {
  type ConnectNodeAdapterOptions,
  compressionBrotli,
  compressionGzip,
  universalRequestFromNodeRequest,
  universalResponseToNodeResponse,
} from "@connectrpc/connect-node";
import type { Logger } from "pino";
import type { Metrics } from "../app/ports/metrics.ts";
import { asDecodingError } from "./error-codes.ts";
import { recordRefused } from "./rpc-interceptor.ts";

type NodeHandler = ReturnType<typeof import("@connectrpc/connect-node").connectNodeAdapter>;

/** Creates the handler; paths no RPC has go to `options.fallback`. */
export function createConnectNodeHandler(
  options: ConnectNodeAdapterOptions & { fallback: NonNullable<ConnectNodeAdapterOptions["fallback"]> },
  metrics: Metrics,
  logger: Logger,
): NodeHandler {
  const router = createConnectRouter({ acceptCompression: [compressionGzip, compressionBrotli], ...options });
  options.routes(router);
  const byPath = new Map(router.handlers.map((h) => [h.requestPath, h]));
  return (req, res) => {
    const handler = byPath.get(req.url?.split("?", 2)[0] ?? "");
    if (!handler) return options.fallback(req, res);
    const labels = { service: handler.service.typeName, method: handler.method.name };
    const refused = (err: ConnectError) => recordRefused(metrics, logger, labels, err);
    handler(universalRequestFromNodeRequest(req, res, undefined, undefined))
      .then((uRes) => corrected(uRes, refused))
      .then((uRes) => universalResponseToNodeResponse(uRes, res))
      .catch((err: unknown) => {
        if (ConnectError.from(err).code !== Code.Aborted) logger.error({ err, ...labels }, "rpc handler failed");
      });
  };
}

/**
 * The error of an answer the interceptors never saw (they tag every error with x-request-id),
 * reported to `refused` as counted, a request-decoding error replaced by invalid_argument.
 */
function refusal(err: ConnectError | undefined, refused: (err: ConnectError) => void): ConnectError | undefined {
  if (!err || err.metadata.has("x-request-id")) return undefined;
  const fixed = asDecodingError(err) ?? err;
  refused(fixed);
  return fixed === err ? undefined : fixed;
}

/** `res` as corrected by `refusal`. */
async function corrected(
  res: UniversalServerResponse,
  refused: (err: ConnectError) => void,
): Promise<UniversalServerResponse> {
  const type = res.header?.get("content-type") ?? "";
  const { body, trailer } = res;
  if (!body) return res;
  // Connect unary: the error is the JSON body of a non-200 answer (never compressed: it is small).
  if (res.status !== 200 && type.startsWith("application/json") && !res.header?.has("content-encoding")) {
    const bytes = await readAllBytes(body, Number.MAX_SAFE_INTEGER);
    const fixed = refusal(errorFromJsonBytes(bytes, res.header, new ConnectError("", Code.Unknown)), refused);
    const json = fixed ? errorToJsonBytes(fixed, {}) : bytes;
    res.header?.set("content-length", String(json.byteLength));
    return {
      ...res,
      status: fixed ? codeToHttpStatus(fixed.code) : res.status,
      body: (async function* () {
        yield json;
      })(),
    };
  }
  // gRPC-Web: the status is the last envelope of the body, flagged as the trailer.
  if (type.startsWith("application/grpc-web")) {
    return {
      ...res,
      body: (async function* () {
        for await (const chunk of body) {
          const whole =
            chunk.byteLength >= 5 && new DataView(chunk.buffer, chunk.byteOffset).getUint32(1) === chunk.byteLength - 5;
          const fields = chunk[0] === trailerFlag && whole ? trailerParse(chunk.subarray(5)) : undefined;
          const fixed = fields && refusal(findTrailerError(fields), refused);
          yield fields && fixed
            ? encodeEnvelope(trailerFlag, trailerSerialize(setTrailerStatus(fields, fixed)))
            : chunk;
        }
      })(),
    };
  }
  // gRPC: the status is in the HTTP trailers, filled in once the body has been sent.
  if (type.startsWith("application/grpc") && trailer) {
    return {
      ...res,
      body: (async function* () {
        yield* body;
        const fixed = refusal(findTrailerError(trailer), refused);
        if (fixed) setTrailerStatus(trailer, fixed);
        encodeGrpcMessageMinimally(trailer);
      })(),
    };
  }
  return res;
}

/**
 * The grpc-message trailer percent-encoded only where the gRPC spec asks (bytes outside
 * 0x20–0x7E, and "%"): connect-es encodes it as a URI component, and grpc-js clients decode it
 * with decodeURI, so "max connection age; resume" reached them as "max connection age%3B resume".
 */
function encodeGrpcMessageMinimally(trailer: Headers): void {
  const message = trailer.get("grpc-message");
  if (message === null) return;
  const printable = /%(2[0-46-9A-F]|[3-6][0-9A-F]|7[0-9A-E])/g; // 0x20–0x7E but "%"
  trailer.set(
    "grpc-message",
    encodeURIComponent(decodeURIComponent(message)).replace(printable, (m) => decodeURIComponent(m)),
  );
}
