/**
 * Keeps HTTP/1.1 keep-alive working when an RPC stops reading its request early (a gRPC-Web
 * frame that declares more than `readMaxBytes`, an early error): connect-node then destroys the
 * request with its body unread, and Node's HTTP parser, pushing the rest of that body into a
 * destroyed request, pauses the socket for good. The client's next request on the kept-alive
 * connection is never read, and a client still uploading the body never finishes.
 *
 * The rest of such a body is discarded instead, as Node discards a body nobody reads: Node's
 * own `IncomingMessage._dump()` marks the request so the parser drops its remaining bytes
 * (closing the connection instead races the client's upload: it gets EPIPE, not the reply).
 */
import type http from "node:http";
import type http2 from "node:http2";

type Handler = (
  req: http.IncomingMessage | http2.Http2ServerRequest,
  res: http.ServerResponse | http2.Http2ServerResponse,
) => void;

/** Wraps `handler` so the unread rest of an abandoned HTTP/1.1 request body is read and dropped. */
export function discardUnreadBody(handler: Handler): Handler {
  return (req, res) => {
    if (req.httpVersionMajor === 1) {
      const dump = (req as { _dump?: () => void })._dump;
      req.once("aborted", () => {
        if (req.complete || !dump) return;
        dump.call(req);
        req.socket.resume();
      });
    }
    handler(req, res);
  };
}
