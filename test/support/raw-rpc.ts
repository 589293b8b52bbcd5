/**
 * Raw RPC requests over HTTP/1.1 (node:http) and HTTP/2 (node:http2) with any body and
 * content type, and the status they got, read the way each protocol reports it: gRPC and
 * gRPC-Web `grpc-status` (trailers, trailers-only headers or the gRPC-Web trailer frame),
 * Connect's JSON error body or end-stream message.
 */
import http from "node:http";
import http2 from "node:http2";
import { Code } from "@connectrpc/connect";

/** One raw request. */
export interface RawRequest {
  readonly httpVersion: "1.1" | "2";
  readonly path: string;
  readonly contentType: string;
  readonly authorization?: string | undefined;
  readonly body: Uint8Array;
}

/** What came back: an RPC status, or a protocol-level HTTP answer (e.g. 415 to a content type no protocol uses). */
export type RawReply =
  | { readonly kind: "rpc"; readonly code: Code; readonly message: string }
  | { readonly kind: "http"; readonly status: number; readonly contentType: string; readonly body: string };

interface HttpAnswer {
  readonly status: number;
  readonly headers: Record<string, string | string[] | undefined>;
  readonly trailers: Record<string, string | string[] | undefined>;
  readonly body: Buffer;
  /** The server accepted a stream and sent a message on it; the stream stays open (e.g. a valid Subscribe). */
  readonly open?: boolean;
}

/**
 * True when a gRPC, gRPC-Web or Connect streaming answer is under way: status 200 and one complete
 * message frame (not a trailer or end-stream frame). A valid streaming request never ends by itself.
 */
function streamOpened(status: number, contentType: string | undefined, body: Buffer): boolean {
  if (status !== 200 || !/^application\/(grpc|connect\+)/.test(contentType ?? "")) return false;
  const length = body.length >= 5 ? body.readUInt32BE(1) : -1;
  return length >= 0 && body.length >= 5 + length && ((body[0] ?? 0) & 0x82) === 0;
}

const timeoutMs = 5000;

function sendH1(r: RawRequest, port: number): Promise<HttpAnswer> {
  return new Promise((resolve, reject) => {
    const req = http.request(
      {
        host: "127.0.0.1",
        port,
        method: "POST",
        path: r.path,
        agent: false,
        timeout: timeoutMs,
        headers: {
          "content-type": r.contentType,
          te: "trailers",
          ...(r.authorization ? { authorization: r.authorization } : {}),
        },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (c: Buffer) => {
          chunks.push(c);
          const body = Buffer.concat(chunks);
          if (!streamOpened(res.statusCode ?? 0, res.headers["content-type"], body)) return;
          resolve({ status: 200, headers: res.headers, trailers: {}, body, open: true });
          req.destroy();
        });
        res.on("end", () =>
          resolve({
            status: res.statusCode ?? 0,
            headers: res.headers,
            trailers: res.trailers,
            body: Buffer.concat(chunks),
          }),
        );
        res.on("error", reject);
      },
    );
    req.on("timeout", () => req.destroy(new Error(`no reply within ${timeoutMs} ms`)));
    req.on("error", reject);
    req.end(r.body);
  });
}

function sendH2(r: RawRequest, port: number): Promise<HttpAnswer> {
  return new Promise((resolve, reject) => {
    const session = http2.connect(`http://127.0.0.1:${port}`);
    const done = (err?: Error, answer?: HttpAnswer) => {
      session.close();
      if (err) reject(err);
      else if (answer) resolve(answer);
    };
    session.on("error", (err) => done(err));
    const stream = session.request({
      ":method": "POST",
      ":path": r.path,
      "content-type": r.contentType,
      te: "trailers",
      ...(r.authorization ? { authorization: r.authorization } : {}),
    });
    stream.setTimeout(timeoutMs, () => stream.close(http2.constants.NGHTTP2_CANCEL));
    let headers: http2.IncomingHttpHeaders = {};
    let trailers: http2.IncomingHttpHeaders = {};
    const chunks: Buffer[] = [];
    stream.on("response", (h) => {
      headers = h;
    });
    stream.on("trailers", (t) => {
      trailers = t;
    });
    stream.on("data", (c: Buffer) => {
      chunks.push(c);
      const body = Buffer.concat(chunks);
      const status = Number(headers[":status"]);
      if (!streamOpened(status, header(headers, "content-type"), body)) return;
      done(undefined, { status, headers, trailers: {}, body, open: true });
      stream.close(http2.constants.NGHTTP2_CANCEL);
    });
    stream.on("end", () =>
      done(undefined, { status: Number(headers[":status"]), headers, trailers, body: Buffer.concat(chunks) }),
    );
    stream.on("error", (err) => done(err));
    stream.on("close", () => {
      if (stream.rstCode && stream.rstCode !== http2.constants.NGHTTP2_NO_ERROR && !headers[":status"]) {
        done(new Error(`stream reset (code ${stream.rstCode}) without a reply`));
      }
    });
    stream.end(r.body);
  });
}

const header = (h: Record<string, string | string[] | undefined>, name: string) => {
  const v = h[name];
  return Array.isArray(v) ? v.join(",") : v;
};

const codeByName = new Map(
  Object.values(Code)
    .filter((c): c is Code => typeof c === "number")
    .map((c) => [Code[c].replace(/([a-z])([A-Z])/g, "$1_$2").toLowerCase(), c]),
);

function grpcStatus(status: string | undefined, message: string | undefined): RawReply | undefined {
  if (status === undefined) return undefined;
  return { kind: "rpc", code: Number(status) as Code, message: decodeURIComponent(message ?? "") };
}

/** Splits length-prefixed frames (flags byte, 4-byte big-endian length); a short tail is ignored. */
function frames(body: Buffer): { flags: number; data: Buffer }[] {
  const out: { flags: number; data: Buffer }[] = [];
  for (let at = 0; at + 5 <= body.length; ) {
    const length = body.readUInt32BE(at + 1);
    out.push({ flags: body[at] ?? 0, data: body.subarray(at + 5, at + 5 + length) });
    at += 5 + length;
  }
  return out;
}

function connectError(json: string): RawReply {
  try {
    const e = JSON.parse(json) as { code?: string; message?: string };
    const code = codeByName.get(e.code ?? "");
    if (code !== undefined) return { kind: "rpc", code, message: e.message ?? "" };
  } catch {
    // not JSON: reported below as a plain HTTP answer
  }
  return { kind: "http", status: 0, contentType: "", body: json.slice(0, 200) };
}

/** Reads the status out of an HTTP answer by the protocol its content type names. */
function replyOf(a: HttpAnswer): RawReply {
  if (a.open) return { kind: "rpc", code: 0 as Code, message: "" };
  const contentType = header(a.headers, "content-type") ?? "";
  const plain: RawReply = { kind: "http", status: a.status, contentType, body: a.body.toString("utf8", 0, 200) };
  if (contentType.startsWith("application/grpc-web")) {
    const trailer = frames(a.body).find((f) => f.flags & 0x80);
    const fields = new Map(
      (trailer?.data.toString("utf8") ?? "")
        .split("\r\n")
        .map((line) => line.split(/:\s?(.*)/s, 2) as [string, string])
        .map(([k, v]) => [k.toLowerCase(), v]),
    );
    return (
      grpcStatus(header(a.headers, "grpc-status"), header(a.headers, "grpc-message")) ??
      grpcStatus(fields.get("grpc-status"), fields.get("grpc-message")) ??
      plain
    );
  }
  if (contentType.startsWith("application/grpc")) {
    return (
      grpcStatus(header(a.trailers, "grpc-status"), header(a.trailers, "grpc-message")) ??
      grpcStatus(header(a.headers, "grpc-status"), header(a.headers, "grpc-message")) ??
      plain
    );
  }
  if (contentType.startsWith("application/connect+")) {
    if (a.status !== 200) return connectError(a.body.toString("utf8"));
    const end = frames(a.body).find((f) => f.flags & 0x02);
    if (!end) return plain;
    const { error } = JSON.parse(end.data.toString("utf8")) as { error?: object };
    return error ? connectError(JSON.stringify(error)) : { kind: "rpc", code: 0 as Code, message: "" };
  }
  if (contentType.startsWith("application/json") && a.status !== 200) return connectError(a.body.toString("utf8"));
  if (/^application\/(proto|json)/.test(contentType) && a.status === 200)
    return { kind: "rpc", code: 0 as Code, message: "" };
  return plain;
}

/** Sends `r` to the server on `port` and reads its status. */
export async function sendRaw(r: RawRequest, port: number): Promise<RawReply> {
  return replyOf(await (r.httpVersion === "2" ? sendH2(r, port) : sendH1(r, port)));
}
