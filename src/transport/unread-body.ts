/**
 * Keeps HTTP/1.1 keep-alive from stalling when an RPC stops reading its request early (a
 * gRPC-Web frame that declares more than `readMaxBytes`, an early error): connect-node then
 * destroys the request with its body unread, and the connection's socket stays paused under
 * that body, so a client's next request on the kept-alive connection is never read. Such a
 * reply says `Connection: close` (when its headers are not out yet) and the connection is
 * closed once the reply is out, so the client sends its next request on a fresh one.
 */
import type http from "node:http";
import type http2 from "node:http2";

type Handler = (
  req: http.IncomingMessage | http2.Http2ServerRequest,
  res: http.ServerResponse | http2.Http2ServerResponse,
) => void;

/** Wraps `handler` so an HTTP/1.1 request abandoned before its end closes its connection after the reply. */
export function closeAfterUnreadBody(handler: Handler): Handler {
  return (req, res) => {
    if (req.httpVersionMajor === 1) {
      const socket = req.socket;
      // "aborted" comes as connect-node gives up on the body, usually before the reply's headers.
      req.once("aborted", () => {
        if (!res.headersSent) res.setHeader("connection", "close");
      });
      res.once("finish", () => {
        if (!req.complete) socket.destroySoon();
      });
    }
    handler(req, res);
  };
}
