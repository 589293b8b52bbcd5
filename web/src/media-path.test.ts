/** Unit tests of the media path in words and the relay protocol's encoding (docs/spec.md §7). */
import assert from "node:assert/strict";
import { test } from "node:test";
import { PathType, RelayProtocol } from "../../gen/calldrop/v1/call_pb.js";
import { pathInWords, relayProtocolToPb } from "./media-path.ts";

test("says P2P, relay, or relay with the protocol a participant reached the TURN server over", () => {
  assert.equal(pathInWords(PathType.P2P, undefined), "P2P");
  assert.equal(pathInWords(PathType.RELAY, undefined), "relay", "recorded before relay protocols");
  assert.equal(pathInWords(PathType.RELAY, RelayProtocol.UNSPECIFIED), "relay");
  assert.equal(pathInWords(PathType.RELAY, RelayProtocol.UDP), "relay/udp");
  assert.equal(pathInWords(PathType.RELAY, RelayProtocol.TCP), "relay/tcp");
  assert.equal(pathInWords(PathType.RELAY, RelayProtocol.TLS), "relay/tls");
  assert.equal(pathInWords(PathType.UNSPECIFIED, RelayProtocol.TLS), "—");
});

test("encodes a reading's relay protocol; none is unspecified", () => {
  assert.equal(relayProtocolToPb("tls"), RelayProtocol.TLS);
  assert.equal(relayProtocolToPb("tcp"), RelayProtocol.TCP);
  assert.equal(relayProtocolToPb("udp"), RelayProtocol.UDP);
  assert.equal(relayProtocolToPb(""), RelayProtocol.UNSPECIFIED);
});
