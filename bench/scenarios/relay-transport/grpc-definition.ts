import { type DescService, fromBinary, toBinary } from "@bufbuild/protobuf";
import type { MethodDefinition, ServiceDefinition } from "@grpc/grpc-js";

/**
 * Builds a @grpc/grpc-js ServiceDefinition from a protobuf-es service descriptor, keyed by the
 * methods' localName (e.g. `connect`), with protobuf-es (de)serializers. Path is
 * `/<package.Service>/<Method>`, the gRPC wire path every client uses.
 */
export function grpcServiceDefinition(service: DescService): ServiceDefinition {
  const definition: Record<string, MethodDefinition<unknown, unknown>> = {};
  for (const method of service.methods) {
    definition[method.localName] = {
      path: `/${service.typeName}/${method.name}`,
      originalName: method.localName,
      requestStream: method.methodKind === "client_streaming" || method.methodKind === "bidi_streaming",
      responseStream: method.methodKind === "server_streaming" || method.methodKind === "bidi_streaming",
      // biome-ignore lint/suspicious/noExplicitAny: grpc-js definitions are untyped at this level
      requestSerialize: (m: any) => Buffer.from(toBinary(method.input, m)),
      requestDeserialize: (b: Buffer) => fromBinary(method.input, b),
      // biome-ignore lint/suspicious/noExplicitAny: see above
      responseSerialize: (m: any) => Buffer.from(toBinary(method.output, m)),
      responseDeserialize: (b: Buffer) => fromBinary(method.output, b),
    };
  }
  return definition;
}
