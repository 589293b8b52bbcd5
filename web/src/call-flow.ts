/**
 * The client side of one call at a time: turns user actions and server events into
 * commands, the peer connection and the quality loop, and publishes a `CallView`
 * for the page. All mutable call state lives in the single `call` record here. Signals
 * are remembered per call (signal-memory.ts): sent again on `Resync`, applied once.
 * An answered call is saved (`saveCall`) so a reloaded page rejoins it (`rejoin`): a fresh
 * peer connection offers to the other side, which renegotiates its own connection.
 */
import { PathType } from "../../gen/calldrop/v1/call_pb.js";
import { HangupReason, MediaConnectionState, SdpType, type ServerEvent } from "../../gen/calldrop/v1/signal_pb.js";
import type { Api } from "./api.ts";
import { stopMedia } from "./media.ts";
import { createMediaRecovery, type MediaRecovery } from "./media-recovery.ts";
import { callEndedNotice, mediaErrorNotice, type Notice, type Role, serverErrorNotice } from "./messages.ts";
import { createPeer, type Peer } from "./peer.ts";
import { type QualityMonitor, type QualityReading, startQualityMonitor } from "./quality/monitor.ts";
import { parseStats, type StatsEntry } from "./quality/stats.ts";
import type { Ringtone } from "./ringtone.ts";
import type { CommandKind, Session } from "./session.ts";
import type { SavedCall } from "./settings.ts";
import { createSignalMemory } from "./signal-memory.ts";

/** Where the call is, from this device's point of view. */
export type Phase = "idle" | "outgoing" | "incoming" | "connecting" | "connected";

/** What the page shows. */
export interface CallView {
  readonly phase: Phase;
  readonly role?: Role;
  readonly peerUser: string;
  readonly callId: string;
  readonly status: string;
  readonly local?: MediaStream;
  readonly remote?: MediaStream;
  readonly muted: boolean;
  readonly cameraOff: boolean;
  readonly path?: "p2p" | "relay";
  readonly setupMs?: number;
  readonly quality?: QualityReading;
  /** Date.now() at accept (callee click / caller's call_accepted) and at media connected. */
  readonly acceptAtMs?: number;
  readonly connectedAtMs?: number;
  readonly candidateErrors: readonly { errorCode: number; errorText: string; url: string }[];
  /** ICE restarts this device started to get the media back (a network change). */
  readonly iceRestarts: number;
}

/** What the call flow needs from the page. */
export interface CallFlowDeps {
  readonly api: Api;
  readonly session: Session;
  readonly ringtone: Ringtone;
  readonly openMedia: (video: boolean) => Promise<MediaStream>;
  readonly sourceHeight: number;
  relayOnly(): boolean;
  render(view: CallView): void;
  /** Keeps (or with undefined, drops) the answered call across a page reload. */
  saveCall(call: SavedCall | undefined): void;
  notify(notice: Notice): void;
  historyChanged(): void;
}

/** User actions. */
export interface CallFlow {
  startCall(calleeUserId: string, video: boolean): Promise<void>;
  /** Rejoins the call a reloaded page was in: new media and connection, offered to the other side. */
  rejoin(saved: SavedCall): void;
  accept(): Promise<void>;
  decline(): Promise<void>;
  /** Cancel (ringing, caller), or hang up (answered). */
  hangup(): Promise<void>;
  toggleMute(): void;
  toggleCamera(): void;
  onEvent(event: ServerEvent): void;
  view(): CallView;
}

interface Call {
  callId: string;
  peerUser: string;
  role: Role;
  phase: Phase;
  video: boolean;
  status: string;
  stream?: MediaStream;
  remote?: MediaStream;
  peer?: Peer;
  monitor?: QualityMonitor;
  /** Serializes peer operations (creation, descriptions, candidates) in arrival order. */
  chain: Promise<void>;
  /** A reloaded page's fresh connection whose offer is not answered yet: offers crossing it are stale. */
  rejoining: boolean;
  /** Gets the media back when its path dies, once the call has connected. */
  recovery?: MediaRecovery;
  muted: boolean;
  cameraOff: boolean;
  path?: "p2p" | "relay";
  setupMs?: number;
  quality?: QualityReading;
  acceptAtMs?: number;
  connectedAtMs?: number;
  candidateErrors: { errorCode: number; errorText: string; url: string }[];
}

/** Creates the flow; feed it server events with `onEvent`. */
export function createCallFlow(d: CallFlowDeps): CallFlow {
  let call: Call | undefined;
  const signals = createSignalMemory<CommandKind>();

  /** Sends a description, candidate or ICE restart, remembered for a resync. */
  async function sendSignal(callId: string, kind: CommandKind): Promise<void> {
    const commandId = crypto.randomUUID();
    signals.sent(callId, commandId, kind);
    await d.session.send(kind, { commandId });
  }

  /** Sends every signal of the call again, in order, under the ids they were first sent with. */
  async function resend(callId: string): Promise<void> {
    for (const s of signals.toResend(callId)) {
      await d.session.send(s.signal, { resendOf: s.commandId }).catch(() => {});
    }
  }

  const view = (): CallView =>
    call
      ? {
          phase: call.phase,
          role: call.role,
          peerUser: call.peerUser,
          callId: call.callId,
          status: call.status,
          local: call.stream,
          remote: call.remote,
          muted: call.muted,
          cameraOff: call.cameraOff,
          path: call.path,
          setupMs: call.setupMs,
          quality: call.quality,
          acceptAtMs: call.acceptAtMs,
          connectedAtMs: call.connectedAtMs,
          candidateErrors: call.candidateErrors,
          iceRestarts: call.recovery?.restartCount() ?? 0,
        }
      : {
          phase: "idle",
          peerUser: "",
          callId: "",
          status: "",
          muted: false,
          cameraOff: false,
          candidateErrors: [],
          iceRestarts: 0,
        };
  const render = () => d.render(view());

  function newCall(role: Role, peerUser: string, callId: string, video: boolean, phase: Phase, status: string): Call {
    return {
      callId,
      peerUser,
      role,
      phase,
      video,
      status,
      chain: Promise.resolve(),
      rejoining: false,
      muted: false,
      cameraOff: false,
      candidateErrors: [],
    };
  }

  function end(c: Call, notice?: Notice): void {
    if (call !== c) return;
    c.recovery?.stop();
    c.monitor?.stop();
    c.peer?.close();
    stopMedia(c.stream);
    d.ringtone.stop();
    signals.forget(c.callId);
    call = undefined;
    d.saveCall(undefined);
    if (notice) d.notify(notice);
    render();
    d.historyChanged();
  }

  /** Saves an answered call (with the signals applied so far) for a page reload. */
  function save(c: Call): void {
    if (call !== c || (c.phase !== "connecting" && c.phase !== "connected")) return;
    const { callId, role, peerUser, video } = c;
    d.saveCall({ callId, role, peerUser, video, applied: signals.applied(callId) });
  }

  /** True the first time a relayed signal arrives (see signal-memory.ts); remembered across a reload. */
  function fresh(c: Call, callId: string, originCommandId: string): boolean {
    if (!signals.fresh(callId, originCommandId)) return false;
    save(c);
    return true;
  }

  /** Applies a remote offer, unless it is a stale one crossing a reloaded page's fresh offer. */
  function remoteOffer(c: Call, sdp: string): void {
    enqueue(c, async () => {
      if (!c.rejoining) await c.peer?.remoteDescription("offer", sdp);
    });
  }

  /** Runs `op` after the call's previous peer operations; failures end the call. */
  function enqueue(c: Call, op: () => Promise<void>): void {
    c.chain = c.chain.then(op).catch((e: unknown) => {
      if (call === c) void hangupWith(c, HangupReason.MEDIA_FAILED, serverErrorNotice(e));
    });
  }

  async function hangupWith(c: Call, reason: HangupReason, notice: Notice): Promise<void> {
    end(c, notice);
    await d.session.send({ case: "hangup", value: { callId: c.callId, reason } }).catch(() => {});
  }

  async function createPeerFor(c: Call): Promise<void> {
    const ice = await d.api.signal.getIceServers({ callId: c.callId });
    if (call !== c || !c.stream) return;
    const callId = c.callId;
    c.peer = createPeer({
      iceServers: ice.iceServers.map((s) => ({
        urls: s.urls,
        ...(s.username ? { username: s.username, credential: s.credential } : {}),
      })),
      relayOnly: d.relayOnly() || ice.relayOnly,
      stream: c.stream,
      sink: {
        description: async (type, sdp) => {
          const sdpType = type === "offer" ? SdpType.OFFER : SdpType.ANSWER;
          await sendSignal(callId, { case: "description", value: { callId, type: sdpType, sdp } });
        },
        candidate: async (ci) => {
          const value = ci
            ? {
                callId,
                candidate: ci.candidate ?? "",
                sdpMid: ci.sdpMid ?? "",
                sdpMLineIndex: ci.sdpMLineIndex ?? 0,
                usernameFragment: ci.usernameFragment ?? "",
              }
            : { callId, endOfCandidates: true };
          await sendSignal(callId, { case: "iceCandidate", value });
        },
        iceRestart: async (sdp) => {
          await sendSignal(callId, { case: "iceRestart", value: { callId, sdp } });
        },
      },
      onRemoteStream: (s) => {
        c.remote = s;
        render();
      },
      onConnectionState: (state) => void onConnectionState(c, state),
      onRemoteClosed: () => {
        // The other side's page reloaded or closed: it comes back with a fresh connection, or the call ends.
        if (call !== c || !c.recovery) return;
        c.status = "Reconnecting…";
        render();
        c.recovery.lost("closed");
      },
      onCandidateError: (e) => {
        c.candidateErrors.push(e);
      },
    });
  }

  async function onConnectionState(c: Call, state: RTCPeerConnectionState): Promise<void> {
    if (call !== c || !c.peer) return;
    const callId = c.callId;
    if (state === "connected" && c.phase !== "connected" && c.connectedAtMs === undefined) {
      c.connectedAtMs = Date.now();
      c.setupMs = c.connectedAtMs - (c.acceptAtMs ?? c.connectedAtMs);
      const peer = c.peer;
      // The path is known once connected: read it before announcing the call as connected.
      const stats = parseStats((await peer.pc.getStats()).values() as Iterable<StatsEntry>);
      if (call !== c) return;
      c.path = stats.path === "relay" ? "relay" : "p2p";
      c.phase = "connected";
      c.status = "Connected";
      const report = (state: MediaConnectionState) =>
        void d.session.send({ case: "mediaState", value: { callId, state } }).catch(() => {});
      c.recovery = createMediaRecovery({
        restarts: c.role === "caller",
        down: () => report(MediaConnectionState.DISCONNECTED),
        restartIce: () => {
          render();
          enqueue(c, async () => c.peer?.restartIce());
        },
        // The server ends the call as failed; its call_ended ends it here.
        giveUp: () => report(MediaConnectionState.FAILED),
      });
      c.monitor = startQualityMonitor({
        pc: peer.pc,
        sender: peer.videoSender(),
        sourceHeight: c.stream?.getVideoTracks()[0]?.getSettings().height ?? d.sourceHeight,
        onReading: (reading) => {
          if (call !== c) return;
          c.quality = reading;
          if (reading.stats.path !== "unknown") c.path = reading.stats.path;
          render();
          void d.session.send({ case: "qualityReport", value: { callId, sample: toSample(reading) } }).catch(() => {});
        },
      });
      render();
      const path = c.path === "relay" ? PathType.RELAY : PathType.P2P;
      await d.session
        .send({
          case: "mediaState",
          value: { callId, state: MediaConnectionState.CONNECTED, path, setupMs: c.setupMs },
        })
        .catch(() => {});
    } else if (state === "connected" && c.recovery?.back()) {
      c.status = "Connected";
      render();
      const path = c.path === "relay" ? PathType.RELAY : PathType.P2P;
      await d.session
        .send({ case: "mediaState", value: { callId, state: MediaConnectionState.CONNECTED, path } })
        .catch(() => {});
    } else if ((state === "disconnected" || state === "failed") && c.recovery) {
      c.status = "Reconnecting…";
      render();
      c.recovery.lost(state);
    } else if (state === "disconnected" || state === "failed") {
      c.status = state === "failed" ? "Connection failed" : "Reconnecting…";
      render();
      const s = state === "failed" ? MediaConnectionState.FAILED : MediaConnectionState.DISCONNECTED;
      await d.session.send({ case: "mediaState", value: { callId, state: s } }).catch(() => {});
    }
  }

  function toSample(r: QualityReading) {
    const s = r.stats;
    return {
      atMs: BigInt(Math.round(s.atMs || Date.now())),
      fractionLost: s.fractionLost ?? 0,
      jitterMs: s.jitterMs,
      rttMs: s.rttMs ?? 0,
      availableOutgoingBitrateBps: Math.round(s.availableOutgoingBitrateBps ?? 0),
      sentBitrateBps: s.sentBitrateBps,
      frameWidth: s.sent.width,
      frameHeight: s.sent.height,
      framesPerSecond: s.sent.fps,
      qualityStep: r.step,
      qualityLimitationReason: s.qualityLimitationReason,
      path: s.path === "relay" ? PathType.RELAY : s.path === "p2p" ? PathType.P2P : PathType.UNSPECIFIED,
    };
  }

  function onEvent(ev: ServerEvent): void {
    const k = ev.kind;
    const c = call;
    // Events may overtake StartCall's result: an outgoing call without an id yet claims them.
    const mine = (callId: string) => {
      if (c?.callId === "" && c.role === "caller" && c.phase === "outgoing") c.callId = callId;
      return c !== undefined && c.callId === callId;
    };
    switch (k.case) {
      case "ringing":
        if (c && c.role === "caller" && mine(k.value.callId)) {
          c.status = `Ringing ${c.peerUser}…`;
          render();
        }
        return;
      case "incomingCall":
        // Glare: the person we are calling calls us; the server merges the two when our StartCall lands.
        if (c && c.role === "caller" && c.phase === "outgoing" && c.peerUser === k.value.callerUserId) return;
        if (c && c.callId !== k.value.callId) {
          void d.session.send({ case: "busy", value: { callId: k.value.callId } }).catch(() => {});
          return;
        }
        if (c) return;
        call = newCall("callee", k.value.callerUserId, k.value.callId, k.value.video, "incoming", "Incoming call");
        d.ringtone.start();
        render();
        return;
      case "callAccepted":
        if (!c) {
          // A fresh session re-learns a call this page does not know (its state is gone): end it,
          // so neither user stays "in a call" nobody can see.
          const callId = k.value.callId;
          void d.session.send({ case: "hangup", value: { callId, reason: HangupReason.APP_CLOSED } }).catch(() => {});
          return;
        }
        if (!mine(k.value.callId) || c.role !== "caller" || c.phase !== "outgoing") return;
        c.phase = "connecting";
        c.acceptAtMs = Date.now();
        c.status = "Connecting…";
        save(c);
        render();
        enqueue(c, () => createPeerFor(c));
        enqueue(c, async () => c.peer?.offer());
        return;
      case "answeredElsewhere":
        if (c && mine(k.value.callId)) end(c, { text: "Answered on another device.", kind: "info" });
        return;
      case "callEnded":
        if (c && mine(k.value.callId)) {
          const hadMedia = c.connectedAtMs !== undefined || c.rejoining;
          end(c, callEndedNotice(k.value.outcome, k.value.reason, c.role, c.peerUser, hadMedia));
        }
        return;
      case "resync":
        if (c && mine(k.value.callId)) void resend(c.callId);
        return;
      case "description": {
        const v = k.value;
        if (!c || !mine(v.callId) || !fresh(c, v.callId, ev.originCommandId)) return;
        if (v.type === SdpType.OFFER) remoteOffer(c, v.sdp);
        if (v.type !== SdpType.ANSWER) return;
        enqueue(c, async () => {
          await c.peer?.remoteDescription("answer", v.sdp);
          c.rejoining = false;
        });
        return;
      }
      case "iceCandidate": {
        const v = k.value;
        // End-of-candidates needs no action in Chromium; a missing candidate only delays "completed".
        if (!c || !mine(v.callId) || !fresh(c, v.callId, ev.originCommandId) || v.endOfCandidates) return;
        const init = {
          candidate: v.candidate,
          sdpMid: v.sdpMid,
          sdpMLineIndex: v.sdpMLineIndex,
          usernameFragment: v.usernameFragment || null,
        };
        enqueue(c, async () => c.peer?.remoteCandidate(init));
        return;
      }
      case "iceRestart":
        if (c && mine(k.value.callId) && fresh(c, k.value.callId, ev.originCommandId)) remoteOffer(c, k.value.sdp);
        return;
      case "qualityHint":
        if (c && mine(k.value.callId)) c.monitor?.setBitrateCap(k.value.maxBitrateBps);
        return;
      case "missedCall":
        d.notify({ text: `Missed call from ${k.value.callerUserId}.`, kind: "error" });
        d.historyChanged();
        return;
      default:
        return;
    }
  }

  return {
    async startCall(calleeUserId, video) {
      if (call || calleeUserId === "") return;
      const c = newCall("caller", calleeUserId, "", video, "outgoing", `Calling ${calleeUserId}…`);
      call = c;
      render();
      try {
        c.stream = await d.openMedia(video);
      } catch (e) {
        end(c, mediaErrorNotice(e));
        return;
      }
      render();
      try {
        const result = await d.session.send({ case: "startCall", value: { calleeUserId, video } });
        if (call !== c) {
          // Hung up while the command was in flight.
          await d.session.send({ case: "cancel", value: { callId: result.callId } }).catch(() => {});
          return;
        }
        c.callId ||= result.callId;
        if (result.mergedIntoExisting) {
          // Glare: the callee was calling us at the same time; the server answered their call here.
          c.role = "callee";
          c.phase = "connecting";
          c.acceptAtMs = Date.now();
          c.callId = result.callId;
          c.status = "Connecting…";
          save(c);
          enqueue(c, () => createPeerFor(c));
        }
        render();
      } catch (e) {
        end(c, serverErrorNotice(e));
      }
    },
    async accept() {
      const c = call;
      if (c?.phase !== "incoming") return;
      d.ringtone.stop();
      c.phase = "connecting";
      c.acceptAtMs = Date.now();
      c.status = "Connecting…";
      save(c);
      render();
      try {
        c.stream = await d.openMedia(c.video);
      } catch (e) {
        end(c, mediaErrorNotice(e));
        await d.session.send({ case: "decline", value: { callId: c.callId } }).catch(() => {});
        return;
      }
      render();
      enqueue(c, () => createPeerFor(c));
      try {
        await d.session.send({ case: "accept", value: { callId: c.callId } });
      } catch (e) {
        end(c, serverErrorNotice(e));
      }
    },
    rejoin(saved) {
      if (call) return;
      const c = newCall(saved.role, saved.peerUser, saved.callId, saved.video, "connecting", "Reconnecting…");
      c.rejoining = true;
      c.acceptAtMs = Date.now();
      signals.restore(saved.callId, saved.applied);
      call = c;
      render();
      // One chain step, queued before any replayed event: stale offers then find our offer out.
      enqueue(c, async () => {
        try {
          c.stream = await d.openMedia(saved.video);
        } catch (e) {
          if (call === c) await hangupWith(c, HangupReason.MEDIA_FAILED, mediaErrorNotice(e));
          return;
        }
        render();
        await createPeerFor(c);
        await c.peer?.offer();
      });
    },
    async decline() {
      const c = call;
      if (c?.phase !== "incoming") return;
      end(c);
      await d.session.send({ case: "decline", value: { callId: c.callId } }).catch(() => {});
    },
    async hangup() {
      const c = call;
      if (!c) return;
      if (c.phase === "incoming") return this.decline();
      if (c.phase === "outgoing") {
        end(c, { text: "Call cancelled.", kind: "info" });
        if (c.callId) await d.session.send({ case: "cancel", value: { callId: c.callId } }).catch(() => {});
        return;
      }
      const seconds = c.connectedAtMs ? Math.round((Date.now() - c.connectedAtMs) / 1000) : 0;
      await hangupWith(c, HangupReason.NORMAL, { text: `Call with ${c.peerUser} ended (${seconds} s).`, kind: "info" });
    },
    toggleMute() {
      if (!call?.stream) return;
      call.muted = !call.muted;
      for (const t of call.stream.getAudioTracks()) t.enabled = !call.muted;
      render();
    },
    toggleCamera() {
      if (!call?.stream) return;
      call.cameraOff = !call.cameraOff;
      for (const t of call.stream.getVideoTracks()) t.enabled = !call.cameraOff;
      render();
    },
    onEvent,
    view,
  };
}
