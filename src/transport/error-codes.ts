/** Domain errors and connect-es decoding errors as Connect errors for clients (docs/style.md 9). */
import { Code, ConnectError } from "@connectrpc/connect";
import type { Logger } from "pino";
import { codeOf } from "../codec/status-codes.ts";
import { isDomainError } from "../domain/errors.ts";

/**
 * The errors connect-es raises while decoding a request, by the start of their message (connect-es
 * gives them no other mark): a body that is not the method's protobuf, a compressed frame without
 * an encoding, no message or a second one where the method takes one. All are the client's fault,
 * yet connect-es reports them as internal or unimplemented (src/transport/error-codes.test.ts pins
 * the messages, so a connect-es upgrade that rewords them fails there).
 */
const decodingErrors = [
  "parse binary: ",
  "received compressed envelope, but do not know how to decompress",
  "protocol error: missing input message",
  "protocol error: received extra input message",
];

/** The invalid_argument a request that did not decode gets; `err` is what the decoder threw. */
export function requestDecodingError(err: unknown): ConnectError {
  const e = ConnectError.from(err);
  return new ConnectError(`malformed request: ${e.rawMessage}`, Code.InvalidArgument, undefined, undefined, err);
}

/** `err` as invalid_argument when connect-es raised it decoding the request, else undefined. */
export function asDecodingError(err: ConnectError): ConnectError | undefined {
  if (err.code !== Code.Internal && err.code !== Code.Unimplemented) return undefined;
  return decodingErrors.some((m) => err.rawMessage.startsWith(m)) ? requestDecodingError(err) : undefined;
}

/** Turns any thrown value into a ConnectError; unexpected ones are logged and hidden behind Internal. */
export function toConnectError(err: unknown, logger: Logger): ConnectError {
  if (err instanceof ConnectError) return asDecodingError(err) ?? err;
  if (isDomainError(err)) return new ConnectError(err.message, codeOf(err.code), undefined, undefined, err);
  logger.error({ err }, "unexpected error");
  return new ConnectError("internal error", Code.Internal, undefined, undefined, err);
}
