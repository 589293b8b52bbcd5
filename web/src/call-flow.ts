/**
 * The client side of one call at a time: turns user actions and server events into
 * commands, the peer connection and the quality loop, and publishes a `CallView`
 * for the page. Where the call is lives in the pure machine of call-state.ts: this module
 * feeds it events and runs its effects; the `call` record only holds the call's resources
 * (media, connection, loops). Signals are remembered per call (signal-memory.ts): sent again
 * on `Resync`, applied once.
 * An answered call is saved (`saveCall`) so a reloaded page rejoins it (`rejoin`): a fresh
 * peer connection offers to the other side, which renegotiates its own connection.
 */
import { PathType } from "../../gen/calldrop/v1/call_pb.js";
import { MediaConnectionState, SdpType, type ServerEvent } from "../../gen/calldrop/v1/signal_pb.js";
import type { Api } from "./api.ts";
import {
  type CallEffect,
  type CallEvent,
  type CallState,
  hasCall,
  IDLE,
  type MediaPath,
  type Phase,
  phaseOf,
  statusOf,
  transition,
} from "./call-state.ts";
import { stopMedia } from "./media.ts";
import { relayProtocolToPb } from "./media-path.ts";
import { createMediaRecovery, type MediaRecovery } from "./media-recovery.ts";
import { mediaErrorNotice, type Notice, type Role, serverErrorNotice } from "./messages.ts";
import { createPeer, type Peer } from "./peer.ts";
import { type QualityMonitor, type QualityReading, startQualityMonitor } from "./quality/monitor.ts";
import { parseStats, type StatsEntry } from "./quality/stats.ts";
import type { Ringtone } from "./ringtone.ts";
import type { CommandKind, Session } from "./session.ts";
import type { SavedCall } from "./settings.ts";
import { createSignalMemory } from "./signal-memory.ts";

/** What the page shows: the call state, its derived words, and the media around it. */
export interface CallView {
  readonly state: CallState;
  readonly phase: Phase;
  readonly role?: Role;
  readonly peerUser: string;
  readonly callId: string;
  readonly status: string;
  readonly local?: MediaStream;
  readonly remote?: MediaStream;
  readonly muted: boolean;
  readonly cameraOff: boolean;
  /** The other side's microphone and camera as its user set them (docs/spec.md §14). */
  readonly peerMuted: boolean;
  readonly peerCameraOff: boolean;
  readonly path?: MediaPath;
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
  /** The notice is no longer current (an ended call's sentence after its time on screen). */
  clearNotice(notice: Notice): void;
  /** Someone called while this device was away or busy and nobody answered. */
  missedCall(callId: string, callerUserId: string): void;
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

/** What the call in progress holds besides its state: the media, the connection, the loops. */
interface Call {
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
  /** The latest media controls the other side sent. */
  peerMuted: boolean;
  peerCameraOff: boolean;
  quality?: QualityReading;
  candidateErrors: { errorCode: number; errorText: string; url: string }[];
}

/** Creates the flow; feed it server events with `onEvent`. */
export function createCallFlow(d: CallFlowDeps): CallFlow {
  let state: CallState = IDLE;
  /** The resources of the call in `state`; a new object per call, so late async steps can tell theirs ended. */
  let call: Call | undefined;
  const signals = createSignalMemory<CommandKind>();

  /** Runs one event through the machine, then its effects, then renders. */
  function dispatch(event: CallEvent): void {
    const before = state;
    const t = transition(state, event, Date.now());
    state = t.state;
    if (!hasCall(before) && hasCall(state)) {
      call = {
        chain: Promise.resolve(),
        rejoining: false,
        muted: false,
        cameraOff: false,
        peerMuted: false,
        peerCameraOff: false,
        candidateErrors: [],
      };
    }
    for (const effect of t.effects) run(effect, before);
    render();
  }

  function run(e: CallEffect, before: CallState): void {
    const c = call;
    switch (e.type) {
      case "ring":
      case "ringback":
        d.ringtone.start(e.type);
        return;
      case "silence":
        d.ringtone.stop();
        return;
      case "send": {
        const { case: kind, ...value } = e.command;
        void d.session.send({ case: kind, value } as CommandKind).catch(() => {});
        return;
      }
      case "save":
        save();
        return;
      case "connect_peer":
        if (!c) return;
        enqueue(c, () => createPeerFor(c));
        if (e.offer) enqueue(c, async () => c.peer?.offer());
        return;
      case "read_path":
        if (c?.peer) void readPath(c, c.peer);
        return;
      case "media_connected":
        if (c?.peer) mediaConnected(c, c.peer, e.path, e.setupMs);
        return;
      case "resend":
        void resend(current());
        return;
      case "report_connected":
        reportMedia(MediaConnectionState.CONNECTED, e.path, e.setupMs);
        return;
      case "media_back":
        c?.recovery?.back();
        reportMedia(MediaConnectionState.CONNECTED, e.path);
        return;
      case "tell_controls":
        if (c) sendControls(c, true);
        return;
      case "recover":
        c?.recovery?.lost(e.state);
        return;
      case "report_trouble":
        reportMedia(e.state === "failed" ? MediaConnectionState.FAILED : MediaConnectionState.DISCONNECTED);
        return;
      case "teardown":
        if (c) release(c, hasCall(before) ? before.callId : "");
        return;
      case "notify":
        d.notify(e.notice);
        return;
      case "dismiss_after":
        setTimeout(() => dispatch({ type: "dismiss", endedAtMs: e.endedAtMs }), e.ms);
        return;
      case "clear_notice":
        d.clearNotice(e.notice);
        return;
    }
  }

  function release(c: Call, callId: string): void {
    c.recovery?.stop();
    c.monitor?.stop();
    c.peer?.close();
    stopMedia(c.stream);
    signals.forget(callId);
    call = undefined;
    d.saveCall(undefined);
    d.historyChanged();
  }

  /** The call id of the call in progress, "" when none. */
  const current = () => (hasCall(state) ? state.callId : "");
  /** The event names the call in progress (and `c` is still its resources). */
  const mine = (c: Call | undefined, callId: string): c is Call =>
    c !== undefined && c === call && current() === callId;

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

  /**
   * Tells the other side this device's microphone and camera (docs/spec.md §14): the whole state in
   * one message, once the call is answered, on every change, and when the machine says so
   * (`tell_controls`). `always` false skips the all-on state, which the other side assumes.
   */
  function sendControls(c: Call, always: boolean): void {
    const s = state;
    if (!mine(c, current()) || (s.tag !== "connecting" && s.tag !== "in_call" && s.tag !== "reconnecting")) return;
    if (!always && !c.muted && !c.cameraOff) return;
    const value = { callId: s.callId, audioMuted: c.muted, cameraOff: c.cameraOff, screenSharing: false };
    void d.session.send({ case: "mediaControls", value }).catch(() => {});
  }

  function reportMedia(mediaState: MediaConnectionState, path?: MediaPath, setupMs?: number): void {
    const callId = current();
    const pathType = path === undefined ? undefined : path === "relay" ? PathType.RELAY : PathType.P2P;
    const value = { callId, state: mediaState, ...(pathType === undefined ? {} : { path: pathType }), setupMs };
    void d.session.send({ case: "mediaState", value }).catch(() => {});
  }

  const view = (): CallView => {
    const s = state;
    const answered = s.tag === "connecting" || s.tag === "in_call" || s.tag === "reconnecting";
    const connected = s.tag === "in_call" || s.tag === "reconnecting";
    return {
      state: s,
      phase: phaseOf(s),
      role: s.tag === "outgoing" ? "caller" : s.tag === "incoming" ? "callee" : answered ? s.role : undefined,
      peerUser: hasCall(s) ? s.peer : "",
      callId: current(),
      status: hasCall(s) ? statusOf(s) : "",
      local: call?.stream,
      remote: call?.remote,
      muted: call?.muted ?? false,
      cameraOff: call?.cameraOff ?? false,
      peerMuted: call?.peerMuted ?? false,
      peerCameraOff: call?.peerCameraOff ?? false,
      path: connected ? s.path : undefined,
      setupMs: connected ? s.setupMs : undefined,
      quality: call?.quality,
      acceptAtMs: answered ? s.acceptAtMs : undefined,
      connectedAtMs: answered ? s.connectedAtMs : undefined,
      candidateErrors: call?.candidateErrors ?? [],
      iceRestarts: call?.recovery?.restartCount() ?? 0,
    };
  };
  const render = () => d.render(view());

  /** Saves an answered call (with the signals applied so far) for a page reload. */
  function save(): void {
    const s = state;
    if (s.tag !== "connecting" && s.tag !== "in_call" && s.tag !== "reconnecting") return;
    const { callId, role, peer, video } = s;
    d.saveCall({ callId, role, peerUser: peer, video, applied: signals.applied(callId) });
  }

  /** True the first time a relayed signal arrives (see signal-memory.ts); remembered across a reload. */
  function fresh(callId: string, originCommandId: string): boolean {
    if (!signals.fresh(callId, originCommandId)) return false;
    save();
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
      if (call === c) dispatch({ type: "peer_failed", notice: serverErrorNotice(e) });
    });
  }

  async function createPeerFor(c: Call): Promise<void> {
    const callId = current();
    const ice = await d.api.signal.getIceServers({ callId });
    if (call !== c || !c.stream) return;
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
      onConnectionState: (pcState) => {
        if (call !== c) return;
        if (pcState === "connected") dispatch({ type: "media_up" });
        if (pcState === "disconnected" || pcState === "failed") dispatch({ type: "media_down", state: pcState });
      },
      // The other side's page reloaded or closed: it comes back with a fresh connection, or the call ends.
      onRemoteClosed: () => {
        if (call === c) dispatch({ type: "media_down", state: "closed" });
      },
      onCandidateError: (e) => {
        c.candidateErrors.push(e);
      },
    });
  }

  /** The path is known once connected: read it before announcing the call as connected. */
  async function readPath(c: Call, peer: Peer): Promise<void> {
    const stats = parseStats((await peer.pc.getStats()).values() as Iterable<StatsEntry>);
    if (call === c) dispatch({ type: "path_known", path: stats.path === "relay" ? "relay" : "p2p" });
  }

  function mediaConnected(c: Call, peer: Peer, path: MediaPath, setupMs: number): void {
    const callId = current();
    c.recovery = createMediaRecovery({
      restarts: hasCall(state) && state.tag !== "outgoing" && state.tag !== "incoming" && state.role === "caller",
      down: () => reportMedia(MediaConnectionState.DISCONNECTED),
      restartIce: () => {
        render();
        enqueue(c, async () => c.peer?.restartIce());
      },
      // The server ends the call as failed; its call_ended ends it here.
      giveUp: () => reportMedia(MediaConnectionState.FAILED),
    });
    c.monitor = startQualityMonitor({
      pc: peer.pc,
      sender: peer.videoSender(),
      sourceHeight: c.stream?.getVideoTracks()[0]?.getSettings().height ?? d.sourceHeight,
      onReading: (reading) => {
        if (call !== c) return;
        c.quality = reading;
        if (reading.stats.path !== "unknown") dispatch({ type: "path_known", path: reading.stats.path });
        else render();
        void d.session.send({ case: "qualityReport", value: { callId, sample: toSample(reading) } }).catch(() => {});
      },
    });
    reportMedia(MediaConnectionState.CONNECTED, path, setupMs);
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
      relayProtocol: relayProtocolToPb(s.relayProtocol),
    };
  }

  function onEvent(ev: ServerEvent): void {
    const k = ev.kind;
    const c = call;
    switch (k.case) {
      case "ringing":
        dispatch({ type: "ringing", callId: k.value.callId });
        return;
      case "incomingCall": {
        const { callId, callerUserId, video } = k.value;
        dispatch({ type: "incoming_call", callId, peer: callerUserId, video });
        return;
      }
      case "callAccepted":
        dispatch({ type: "call_accepted", callId: k.value.callId });
        if (c) sendControls(c, false);
        return;
      case "answeredElsewhere":
        dispatch({ type: "answered_elsewhere", callId: k.value.callId });
        return;
      case "callEnded": {
        const { callId, outcome, reason } = k.value;
        dispatch({ type: "call_ended", callId, outcome, reason });
        return;
      }
      case "resync":
        dispatch({ type: "resync", callId: k.value.callId });
        return;
      case "description": {
        const v = k.value;
        if (!mine(c, v.callId) || !fresh(v.callId, ev.originCommandId)) return;
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
        if (!mine(c, v.callId) || !fresh(v.callId, ev.originCommandId) || v.endOfCandidates) return;
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
        if (mine(c, k.value.callId) && fresh(k.value.callId, ev.originCommandId)) remoteOffer(c, k.value.sdp);
        return;
      case "mediaControls": {
        const v = k.value;
        if (!mine(c, v.callId) || !fresh(v.callId, ev.originCommandId)) return;
        c.peerMuted = v.audioMuted;
        c.peerCameraOff = v.cameraOff;
        render();
        return;
      }
      case "qualityHint":
        if (mine(c, k.value.callId)) c.monitor?.setBitrateCap(k.value.maxBitrateBps);
        return;
      case "missedCall":
        d.missedCall(k.value.callId, k.value.callerUserId);
        d.historyChanged();
        return;
      default:
        return;
    }
  }

  /** Opens the camera and microphone for the call `c`; false (and the call ended) when they cannot open. */
  async function withMedia(c: Call, video: boolean): Promise<boolean> {
    try {
      const stream = await d.openMedia(video);
      if (call !== c) {
        stopMedia(stream);
        return false;
      }
      c.stream = stream;
      render();
      return true;
    } catch (e) {
      if (call === c) dispatch({ type: "media_error", notice: mediaErrorNotice(e) });
      return false;
    }
  }

  return {
    async startCall(calleeUserId, video) {
      if (hasCall(state) || calleeUserId === "") return;
      dispatch({ type: "dial", peer: calleeUserId, video });
      const c = call;
      if (!c || !(await withMedia(c, video))) return;
      try {
        const result = await d.session.send({ case: "startCall", value: { calleeUserId, video } });
        if (call !== c) {
          // Hung up while the command was in flight.
          await d.session.send({ case: "cancel", value: { callId: result.callId } }).catch(() => {});
          return;
        }
        dispatch({ type: "started", callId: result.callId, merged: result.mergedIntoExisting });
      } catch (e) {
        if (call === c) dispatch({ type: "command_failed", notice: serverErrorNotice(e) });
      }
    },
    async accept() {
      if (state.tag !== "incoming") return;
      const video = state.video;
      dispatch({ type: "accept" });
      const c = call;
      if (!c || !(await withMedia(c, video))) return;
      enqueue(c, () => createPeerFor(c));
      try {
        await d.session.send({ case: "accept", value: { callId: current() } });
        sendControls(c, false);
      } catch (e) {
        if (call === c) dispatch({ type: "command_failed", notice: serverErrorNotice(e) });
      }
    },
    rejoin(saved) {
      if (hasCall(state)) return;
      const { callId, role, peerUser: peer, video } = saved;
      dispatch({ type: "rejoin", callId, role, peer, video });
      const c = call;
      if (!c) return;
      c.rejoining = true;
      signals.restore(callId, saved.applied);
      // One chain step, queued before any replayed event: stale offers then find our offer out.
      enqueue(c, async () => {
        if (!(await withMedia(c, video))) return;
        await createPeerFor(c);
        await c.peer?.offer();
      });
    },
    async decline() {
      dispatch({ type: "decline" });
    },
    async hangup() {
      dispatch({ type: "hangup" });
    },
    toggleMute() {
      if (!call?.stream) return;
      call.muted = !call.muted;
      for (const t of call.stream.getAudioTracks()) t.enabled = !call.muted;
      sendControls(call, true);
      render();
    },
    toggleCamera() {
      if (!call?.stream) return;
      call.cameraOff = !call.cameraOff;
      for (const t of call.stream.getVideoTracks()) t.enabled = !call.cameraOff;
      sendControls(call, true);
      render();
    },
    onEvent,
    view,
  };
}
