/**
 * A call's media path as the client reports and shows it (docs/spec.md §5, §7): the relay
 * protocol read from getStats as protobuf, and the path in words for history — "P2P",
 * "relay", or "relay/tls" when a participant reached the TURN server over TLS.
 */
import { PathType, RelayProtocol } from "../../gen/calldrop/v1/call_pb.js";

const TO_PB = { udp: RelayProtocol.UDP, tcp: RelayProtocol.TCP, tls: RelayProtocol.TLS } as const;

/** The relay protocol of a reading ("" = this side not relayed) as protobuf. */
export function relayProtocolToPb(p: keyof typeof TO_PB | ""): RelayProtocol {
  return p ? TO_PB[p] : RelayProtocol.UNSPECIFIED;
}

const WORDS: Partial<Record<RelayProtocol, string>> = {
  [RelayProtocol.UDP]: "udp",
  [RelayProtocol.TCP]: "tcp",
  [RelayProtocol.TLS]: "tls",
};

/** The path in words: "P2P", "relay", "relay/<udp|tcp|tls>", or "—" when not known. */
export function pathInWords(path: PathType, relayProtocol: RelayProtocol | undefined): string {
  if (path === PathType.P2P) return "P2P";
  if (path !== PathType.RELAY) return "—";
  const protocol = relayProtocol === undefined ? undefined : WORDS[relayProtocol];
  return protocol ? `relay/${protocol}` : "relay";
}
