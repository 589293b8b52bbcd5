/**
 * fast-check generators for the fuzz test (test/fuzz.test.ts): any protobuf message built from
 * its schema (every field, a random oneof case, valid and invalid values, oversize strings), and
 * raw request bodies (random bytes, well-formed, truncated and oversized length-prefixed frames).
 */
import { create, type DescField, type DescMessage, type MessageShape, ScalarType, toBinary } from "@bufbuild/protobuf";
import fc from "fast-check";

/** Values worth trying for string fields: what validators must reject, and some that pass. */
export interface StringPools {
  /** For fields named `call_id`: real call ids (someone else's too), unknown and malformed ones. */
  readonly callIds: readonly string[];
  /** For fields naming a user (`callee_user_id`): valid ids of fuzz users. */
  readonly userIds: readonly string[];
  /** For `session_id`: real session ids. */
  readonly sessionIds: readonly string[];
  /** For `resume_token`: real resume tokens (someone else's too). */
  readonly resumeTokens: readonly string[];
}

/** Strings a validator must handle: separators, control and non-ASCII characters, path tricks, lengths at and past limits. */
export const nastyString: fc.Arbitrary<string> = fc.oneof(
  {
    weight: 3,
    arbitrary: fc.constantFrom("", " ", "  ", "a", "1:2:3", "../../../etc/passwd", "\u0000", "a\nb", "🙂", "é"),
  },
  { weight: 3, arbitrary: fc.string({ maxLength: 40 }) },
  { weight: 2, arbitrary: fc.string({ unit: "binary", maxLength: 40 }) },
  { weight: 1, arbitrary: fc.constantFrom(64, 65, 128, 129, 1000, 10_000).map((n) => "x".repeat(n)) },
  // Past the SDP limit (64 KiB) and past the transport's message limit (256 KiB).
  { weight: 1, arbitrary: fc.constantFrom(65 * 1024, 300 * 1024).map((n) => "v".repeat(n)) },
);

function stringFor(field: DescField, pools: StringPools): fc.Arbitrary<string> {
  const pool = field.name.endsWith("call_id")
    ? [...pools.callIds, "0190f3a2-0000-7000-8000-000000000000"]
    : field.name.endsWith("user_id")
      ? pools.userIds
      : field.name === "session_id"
        ? pools.sessionIds
        : field.name === "resume_token"
          ? pools.resumeTokens
          : field.name.endsWith("command_id") || field.name === "resend_of"
            ? ["cmd-1", "cmd-2"]
            : [];
  return pool.length > 0 ? fc.oneof(fc.constantFrom(...pool), nastyString) : nastyString;
}

function scalarArb(type: ScalarType): fc.Arbitrary<unknown> {
  switch (type) {
    case ScalarType.BOOL:
      return fc.boolean();
    case ScalarType.DOUBLE:
    case ScalarType.FLOAT:
      return fc.double(); // NaN, ±Infinity and -0 included
    case ScalarType.INT32:
    case ScalarType.SINT32:
    case ScalarType.SFIXED32:
      return fc.integer();
    case ScalarType.UINT32:
    case ScalarType.FIXED32:
      return fc.oneof(fc.nat({ max: 100 }), fc.integer({ min: 0, max: 0xffff_ffff }));
    case ScalarType.UINT64:
    case ScalarType.FIXED64:
      return fc.oneof(fc.bigInt({ min: 0n, max: 100n }), fc.bigInt({ min: 0n, max: 2n ** 64n - 1n }));
    case ScalarType.INT64:
    case ScalarType.SINT64:
    case ScalarType.SFIXED64:
      return fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n });
    case ScalarType.BYTES:
      return fc.uint8Array({ maxLength: 64 });
    case ScalarType.STRING:
      return nastyString;
  }
}

function fieldArb(field: DescField, pools: StringPools, depth: number): fc.Arbitrary<unknown> {
  const single = (): fc.Arbitrary<unknown> => {
    if (field.fieldKind === "enum" || (field.fieldKind === "list" && field.listKind === "enum")) {
      const values = field.enum.values.map((v) => v.number);
      return fc.oneof(fc.constantFrom(...values), fc.integer({ min: -1, max: 99 })); // unknown numbers too
    }
    if (field.fieldKind === "message" || (field.fieldKind === "list" && field.listKind === "message")) {
      return depth > 3 ? fc.constant(create(field.message)) : messageArb(field.message, pools, depth + 1);
    }
    if (field.fieldKind === "scalar" || (field.fieldKind === "list" && field.listKind === "scalar")) {
      return field.scalar === ScalarType.STRING ? stringFor(field, pools) : scalarArb(field.scalar);
    }
    return fc.constant(undefined); // maps: none in these protos
  };
  return field.fieldKind === "list" ? fc.array(single(), { maxLength: 3 }) : single();
}

/** Any message of `schema`: each field set or left at its default, one random case (or none) of each oneof. */
export function messageArb<Desc extends DescMessage>(
  schema: Desc,
  pools: StringPools,
  depth = 0,
): fc.Arbitrary<MessageShape<Desc>> {
  const plain: Record<string, fc.Arbitrary<unknown>> = {};
  for (const field of schema.fields) {
    if (!field.oneof) plain[field.localName] = fieldArb(field, pools, depth);
  }
  const oneofs: Record<string, fc.Arbitrary<unknown>> = {};
  for (const oneof of schema.oneofs) {
    oneofs[oneof.localName] = fc.oneof(
      fc.constant({ case: undefined }),
      ...oneof.fields.map((f) => fieldArb(f, pools, depth).map((value) => ({ case: f.localName, value }))),
    );
  }
  return fc
    .record({ ...plain, ...oneofs }, { requiredKeys: Object.keys(oneofs) })
    .map((init) => create(schema, init as never) as MessageShape<Desc>);
}

/** A body for one RPC request, as bytes: how it is framed is part of what is fuzzed. */
export function rawBodyArb(valid: fc.Arbitrary<Uint8Array>): fc.Arbitrary<Uint8Array> {
  const payload = fc.oneof(valid, fc.uint8Array({ maxLength: 512 }));
  const envelope = (flags: number, declared: number, bytes: Uint8Array) => {
    const out = new Uint8Array(5 + bytes.length);
    out[0] = flags;
    new DataView(out.buffer).setUint32(1, declared >>> 0);
    out.set(bytes, 5);
    return out;
  };
  return fc.oneof(
    payload, // unframed (Connect unary) or garbage where a frame is expected
    payload.map((b) => envelope(0, b.length, b)), // one well-formed frame
    fc.tuple(payload, fc.integer({ min: 1, max: 64 })).map(([b, extra]) => envelope(0, b.length + extra, b)), // truncated
    payload.map((b) => envelope(0, 0xffff_ffff, b)), // declares 4 GiB
    fc.tuple(fc.integer({ min: 0, max: 255 }), payload).map(([flags, b]) => envelope(flags, b.length, b)), // odd flags
    fc.uint8Array({ maxLength: 4 }), // shorter than a frame header
    fc.tuple(payload, fc.uint8Array({ minLength: 1, maxLength: 16 })).map(([b, junk]) => {
      const framed = envelope(0, b.length, b);
      const out = new Uint8Array(framed.length + junk.length);
      out.set(framed);
      out.set(junk, framed.length);
      return out;
    }), // trailing bytes after the frame
  );
}

/** The binary encoding of any message of `schema` (for raw bodies that are at least well-formed protobuf). */
export function encodedArb<Desc extends DescMessage>(schema: Desc, pools: StringPools): fc.Arbitrary<Uint8Array> {
  return messageArb(schema, pools).map((m) => toBinary(schema, m));
}
