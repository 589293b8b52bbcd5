/**
 * One RTCPeerConnection with its signaling glue: adds the local tracks, makes the
 * offer (caller) or the answer (callee), trickles candidates both ways, holds
 * remote candidates that arrive before the remote description, and restarts ICE.
 */

/** Where our SDP and candidates go (the server, via Send). */
export interface SignalSink {
  description(type: "offer" | "answer", sdp: string): Promise<void>;
  candidate(c: RTCIceCandidateInit | null): Promise<void>;
  /** An ICE-restart offer (the other side answers it like any offer). */
  iceRestart(sdp: string): Promise<void>;
}

/** Options of a peer connection. */
export interface PeerOptions {
  readonly iceServers: RTCIceServer[];
  readonly relayOnly: boolean;
  readonly stream: MediaStream;
  readonly sink: SignalSink;
  onRemoteStream(stream: MediaStream): void;
  onConnectionState(state: RTCPeerConnectionState): void;
  /**
   * The other side closed its end of the connection (DTLS close: its page reloaded or
   * closed). Seen at once, while ICE takes seconds to call the path disconnected.
   */
  onRemoteClosed(): void;
  onCandidateError(e: { readonly errorCode: number; readonly errorText: string; readonly url: string }): void;
}

/** A live peer connection. */
export interface Peer {
  readonly pc: RTCPeerConnection;
  /** Caller: creates and sends the offer. */
  offer(): Promise<void>;
  /** Caller: new ICE credentials and candidates (after a network change), offered to the callee. */
  restartIce(): Promise<void>;
  /** Applies a remote offer (and answers it; an offer crossing ours rolls ours back) or answer. */
  remoteDescription(type: "offer" | "answer", sdp: string): Promise<void>;
  remoteCandidate(c: RTCIceCandidateInit): Promise<void>;
  /** The RTP sender of the camera track, if any. */
  videoSender(): RTCRtpSender | undefined;
  close(): void;
}

/** Creates the connection and adds the local tracks. */
export function createPeer(o: PeerOptions): Peer {
  const pc = new RTCPeerConnection({
    iceServers: o.iceServers,
    iceTransportPolicy: o.relayOnly ? "relay" : "all",
  });
  for (const track of o.stream.getTracks()) pc.addTrack(track, o.stream);
  const pending: RTCIceCandidateInit[] = [];
  let remote: MediaStream | undefined;

  pc.onicecandidate = (e) => void o.sink.candidate(e.candidate ? e.candidate.toJSON() : null).catch(() => {});
  pc.ontrack = (e) => {
    remote = e.streams[0] ?? remote ?? new MediaStream();
    if (!remote.getTracks().includes(e.track)) remote.addTrack(e.track);
    o.onRemoteStream(remote);
  };
  pc.onconnectionstatechange = () => {
    if (pc.connectionState === "connected") watchDtls();
    o.onConnectionState(pc.connectionState);
  };
  /** Watches the DTLS transport in use (a renegotiation with a new peer may bring another). */
  function watchDtls(): void {
    const dtls = pc.getSenders().find((s) => s.transport)?.transport;
    if (!dtls) return;
    dtls.onstatechange = () => {
      if (dtls.state === "closed" && pc.connectionState !== "closed") o.onRemoteClosed();
    };
  }
  pc.onicecandidateerror = (e) => {
    const ev = e as RTCPeerConnectionIceErrorEvent;
    o.onCandidateError({ errorCode: ev.errorCode, errorText: ev.errorText, url: ev.url });
  };

  return {
    pc,
    async offer() {
      const offer = await pc.createOffer();
      await pc.setLocalDescription(offer);
      await o.sink.description("offer", offer.sdp ?? "");
    },
    async restartIce() {
      const offer = await pc.createOffer({ iceRestart: true });
      await pc.setLocalDescription(offer);
      await o.sink.iceRestart(offer.sdp ?? "");
    },
    async remoteDescription(type, sdp) {
      const newDtlsPeer =
        type === "offer" && !!pc.remoteDescription && fingerprint(pc.remoteDescription.sdp) !== fingerprint(sdp);
      await pc.setRemoteDescription({ type, sdp });
      for (const c of pending.splice(0)) await pc.addIceCandidate(c).catch(() => {});
      if (type === "offer") {
        const answer = await pc.createAnswer();
        // The other side came back with a fresh connection (a reload): let its new DTLS start the
        // handshake. Chromium answers as the DTLS client, and an old client re-handshakes only ~6 s
        // later (measured), while a fresh client connects in well under a second.
        const answerSdp = newDtlsPeer ? (answer.sdp ?? "").replaceAll("a=setup:active", "a=setup:passive") : answer.sdp;
        await pc.setLocalDescription({ type: "answer", sdp: answerSdp ?? "" });
        await o.sink.description("answer", answerSdp ?? "");
      }
    },
    async remoteCandidate(c) {
      if (!pc.remoteDescription) pending.push(c);
      else await pc.addIceCandidate(c).catch(() => {});
    },
    videoSender: () => pc.getSenders().find((s) => s.track?.kind === "video"),
    close() {
      pc.onicecandidate = null;
      pc.ontrack = null;
      pc.onconnectionstatechange = null;
      for (const s of pc.getSenders()) if (s.transport) s.transport.onstatechange = null;
      pc.onicecandidateerror = null;
      pc.close();
    },
  };
}

/** The DTLS certificate fingerprint an SDP names (changes when the other side's connection is new). */
function fingerprint(sdp: string): string | undefined {
  return /^a=fingerprint:(.+)$/m.exec(sdp)?.[1]?.trim();
}
