import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { candidateSentAt, sdpSentAt, stampedCandidate, stampSdp } from "./stamp.ts";

describe("payload send stamps", () => {
  it("round-trips a send time through an SDP body, with or without a trailing CRLF", () => {
    for (const body of ["v=0\r\ns=-", "v=0\r\ns=-\r\n"]) {
      const sdp = stampSdp(body, 1234.5678);
      assert.ok(sdp.startsWith("v=0\r\ns=-\r\na=x-bench-sent:"));
      assert.ok(sdp.endsWith("\r\n"));
      assert.equal(sdpSentAt(sdp), 1234.568);
    }
    assert.equal(sdpSentAt("v=0\r\na=foo:1\r\n"), undefined);
  });

  it("round-trips a send time through a candidate line that still looks like a host candidate", () => {
    const c = stampedCandidate("b", 7, 99.25);
    assert.match(c, /^candidate:2007 1 udp 2122260223 127\.0\.0\.1 52007 typ host /);
    assert.equal(candidateSentAt(c), 99.25);
    assert.equal(candidateSentAt("candidate:1 1 udp 1 127.0.0.1 5000 typ host"), undefined);
  });
});
