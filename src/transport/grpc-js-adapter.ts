/**
 * Serves Connect-style service implementations (ServiceImpl) through @grpc/grpc-js,
 * with the same Connect interceptors (auth, metrics, error mapping) as the
 * connect-node path. Mobile gRPC clients reach it over HTTP/2: bench/README.md
 * shows grpc-js relaying bidi streams with about half the CPU per message and a
 * third of the memory per idle stream of connect-node, so the hot path runs here
 * while connect-node serves Connect and gRPC-Web (grpc-js-engine.ts splits the streams).
 *
 * A request that does not decode is the client's fault: it reaches the interceptors as a
 * `MalformedRequest` and fails there as invalid_argument (grpc-js itself would answer
 * `internal` before any interceptor counted it).
 */
import { create, type DescMethod, type DescService, fromBinary, toBinary } from "@bufbuild/protobuf";
import {
  Code,
  ConnectError,
  createContextValues,
  createHandlerContext,
  type HandlerContext,
  type Interceptor,
  type ServiceImpl,
  type StreamRequest,
  type UnaryRequest,
} from "@connectrpc/connect";
import * as grpc from "@grpc/grpc-js";
import { requestDecodingError } from "./error-codes.ts";

/** One service and its implementation. */
export interface GrpcJsService {
  readonly service: DescService;
  // biome-ignore lint/suspicious/noExplicitAny: implementations of different services share this list
  readonly impl: Partial<ServiceImpl<any>>;
}

type Impl = (input: unknown, ctx: HandlerContext) => unknown;

/** A request message that did not decode; thrown as invalid_argument where the handler reads it. */
class MalformedRequest {
  readonly error: ConnectError;
  constructor(error: ConnectError) {
    this.error = error;
  }
}

function decode(method: DescMethod, bytes: Buffer): unknown {
  try {
    return fromBinary(method.input, bytes);
  } catch (err) {
    return new MalformedRequest(requestDecodingError(err));
  }
}

function checked(message: unknown): unknown {
  if (message instanceof MalformedRequest) throw message.error;
  return message;
}

/** The call's messages, checked; never returns the source iterator, which would destroy the call before its status is sent. */
async function* checkedStream(messages: AsyncIterable<unknown>): AsyncIterable<unknown> {
  const it = messages[Symbol.asyncIterator]();
  for (let r = await it.next(); !r.done; r = await it.next()) yield checked(r.value);
}

/** The one request message of a server-streaming call, as connect-es hands it to the implementation. */
async function single(messages: AsyncIterable<unknown>): Promise<unknown> {
  for await (const m of messages) return m;
  throw new ConnectError("missing request message", Code.InvalidArgument);
}
type Call =
  | grpc.ServerUnaryCall<unknown, unknown>
  | grpc.ServerWritableStream<unknown, unknown>
  | grpc.ServerDuplexStream<unknown, unknown>;

/** Registers every method of `services` on a grpc-js server. */
export function addServices(
  server: grpc.Server,
  services: readonly GrpcJsService[],
  interceptors: readonly Interceptor[],
): void {
  for (const { service, impl } of services) {
    const definition: Record<string, grpc.MethodDefinition<unknown, unknown>> = {};
    const handlers: grpc.UntypedServiceImplementation = {};
    for (const method of service.methods) {
      const fn = (impl as Record<string, Impl | undefined>)[method.localName];
      if (!fn || method.methodKind === "client_streaming") continue;
      definition[method.localName] = {
        path: `/${service.typeName}/${method.name}`,
        requestStream: method.methodKind === "bidi_streaming",
        responseStream: method.methodKind !== "unary",
        originalName: method.localName,
        requestSerialize: (m) => Buffer.from(toBinary(method.input, m as never)),
        requestDeserialize: (b) => decode(method, b),
        responseSerialize: (m) => Buffer.from(toBinary(method.output, m as never)),
        responseDeserialize: (b) => fromBinary(method.output, b),
      };
      handlers[method.localName] = handlerFor(service, method, fn.bind(impl), interceptors);
    }
    server.addService(definition, handlers);
  }
}

function handlerFor(service: DescService, method: DescMethod, impl: Impl, interceptors: readonly Interceptor[]) {
  const url = `/${service.typeName}/${method.name}`;
  const innermost = async (req: UnaryRequest | StreamRequest) => {
    const ctx = createHandlerContext({
      service,
      method,
      protocolName: "grpc",
      requestMethod: "POST",
      url,
      requestSignal: req.signal,
      requestHeader: req.header,
      contextValues: req.contextValues,
    });
    const output = !req.stream
      ? await impl(checked(req.message), ctx)
      : method.methodKind === "server_streaming"
        ? impl(checked(await single(req.message)), ctx)
        : impl(checkedStream(req.message), ctx);
    const base = { service, method, header: ctx.responseHeader, trailer: ctx.responseTrailer } as const;
    return req.stream
      ? { ...base, stream: true as const, message: output as AsyncIterable<never> }
      : { ...base, stream: false as const, message: create(method.output as never, output as never) };
  };
  // biome-ignore lint/suspicious/noExplicitAny: the chain is typed per method kind at run time
  const chain = interceptors.reduceRight((next: any, interceptor) => interceptor(next), innermost);

  return (call: Call, callback?: grpc.sendUnaryData<unknown>) => {
    const abort = new AbortController();
    (call as grpc.ServerUnaryCall<unknown, unknown>).on("cancelled", () =>
      abort.abort(new ConnectError("cancelled by the client", Code.Canceled)),
    );
    const header = new Headers();
    for (const [k, v] of Object.entries(call.metadata.getMap())) if (typeof v === "string") header.set(k, v);
    const common = {
      service,
      method,
      requestMethod: "POST",
      url,
      signal: abort.signal,
      header,
      contextValues: createContextValues(),
    };
    const fail = (err: unknown) => {
      const e = ConnectError.from(err);
      return { code: e.code as number as grpc.status, details: e.rawMessage, metadata: metadataOf(e.metadata) };
    };
    if (callback) {
      const req = { ...common, stream: false, message: (call as grpc.ServerUnaryCall<unknown, unknown>).request };
      chain(req).then(
        (res: { header: Headers; message: unknown }) => {
          call.sendMetadata(metadataOf(res.header));
          callback(null, res.message);
        },
        (err: unknown) => callback(fail(err)),
      );
      return;
    }
    const writable = call as grpc.ServerWritableStream<unknown, unknown>;
    const input =
      method.methodKind === "bidi_streaming"
        ? (call as grpc.ServerDuplexStream<unknown, unknown>)
        : (async function* () {
            yield writable.request;
          })();
    (async () => {
      const res: { header: Headers; message: AsyncIterable<unknown> } = await chain({
        ...common,
        stream: true,
        message: input,
      });
      call.sendMetadata(metadataOf(res.header));
      for await (const message of res.message) {
        if (!writable.write(create(method.output as never, message as never))) {
          await new Promise((resolve) => writable.once("drain", resolve));
        }
      }
      writable.end();
    })().catch((err: unknown) => {
      if (!abort.signal.aborted) writable.emit("error", fail(err));
    });
  };
}

function metadataOf(headers: Headers): grpc.Metadata {
  const md = new grpc.Metadata();
  for (const [k, v] of headers) if (!k.startsWith(":") && k !== "content-type") md.set(k, v);
  return md;
}
