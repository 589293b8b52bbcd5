/**
 * SDP-like text of exactly `bytes` ASCII characters: the relayed payload, so that each
 * relayed message (protobuf ServerEvent or PeerJS JSON) is about 1 KB on the wire.
 */
export function sdpLike(bytes: number, seed: number): string {
  const lines = [
    "v=0",
    `o=- ${4611731400430051336n + BigInt(seed)} 2 IN IP4 127.0.0.1`,
    "s=-",
    "t=0 0",
    "a=group:BUNDLE 0 1",
    "a=extmap-allow-mixed",
    "a=msid-semantic: WMS stream",
    "m=audio 9 UDP/TLS/RTP/SAVPF 111 63 9 0 8 13 110 126",
    "c=IN IP4 0.0.0.0",
    "a=rtcp:9 IN IP4 0.0.0.0",
    `a=ice-ufrag:${seed.toString(36).padStart(4, "x")}`,
    "a=ice-pwd:asd88fgpdd777uzjYhagZg7pZ4vGvNgz",
    "a=ice-options:trickle",
    "a=fingerprint:sha-256 7B:8B:F0:65:5F:78:E2:51:3B:AC:6F:F3:3F:46:1B:35:DC:B8:5F:64:1A:24:C2:43:F0:A1:58:D0:A1:2C:19:08",
    "a=setup:actpass",
    "a=mid:0",
    "a=sendrecv",
    "a=rtcp-mux",
    "a=rtpmap:111 opus/48000/2",
    "a=fmtp:111 minptime=10;useinbandfec=1",
    "m=video 9 UDP/TLS/RTP/SAVPF 96 97 98 99 100 101 127 121 125 107 108 109",
    "a=rtpmap:96 VP8/90000",
    "a=rtcp-fb:96 goog-remb",
    "a=rtcp-fb:96 transport-cc",
    "a=rtcp-fb:96 ccm fir",
    "a=rtcp-fb:96 nack",
    "a=rtcp-fb:96 nack pli",
  ];
  let text = `${lines.join("\r\n")}\r\n`;
  while (text.length < bytes)
    text += `a=candidate:${text.length} 1 udp 2122260223 127.0.0.1 5${seed % 10000} typ host\r\n`;
  return text.slice(0, bytes);
}

/** Device ids of the two sides of pair `i` (also the PeerJS peer ids). */
export function pairDevices(i: number): { a: string; b: string; callId: string } {
  return { a: `p${i}.a`, b: `p${i}.b`, callId: `p${i}` };
}

/** The other device of a call: `p7.a` ↔ `p7.b`; undefined for an id that is not a pair side. */
export function peerDevice(deviceId: string): string | undefined {
  if (deviceId.endsWith(".a")) return `${deviceId.slice(0, -2)}.b`;
  if (deviceId.endsWith(".b")) return `${deviceId.slice(0, -2)}.a`;
  return undefined;
}
