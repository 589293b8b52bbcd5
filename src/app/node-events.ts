/**
 * The events one node's parts raise for parts built after them (docs/cluster.md "Pieces"): the
 * session hub reports devices coming and going, the router reports what it could not deliver
 * and which node runs a call. The composition root builds the node top-down — hub, router, call
 * service, routing, session presence — handing each the `NodeEvents` of this module, and
 * attaches the handlers once the parts that handle them exist. No part calls up into another.
 */
import type { DeviceRef } from "../domain/call-types.ts";
import type { SessionEventBody } from "./session-events.ts";
import type { Session } from "./session-hub.ts";

/** What a node's parts tell each other. */
export interface NodeEvents {
  /** A session's device went away past its grace period (session hub). */
  deviceLost(session: Session): void;
  /** A fresh session of a device opened on this node (session hub). */
  deviceOnline(session: Session): void;
  /** A call event found no session of its device anywhere (router). */
  undeliverable(to: DeviceRef, body: SessionEventBody): void;
  /** Node `originNodeId` sent an event of `callId`: it runs that call (router). */
  callEvent(callId: string, originNodeId: string): void;
}

/** Node events whose handlers are attached once, after the parts that raise them are built. */
export interface NodeEventStream extends NodeEvents {
  attach(handlers: NodeEvents): void;
}

/** Creates the stream; an event raised before `attach` is a wiring bug and throws. */
export function createNodeEventStream(): NodeEventStream {
  let handlers: NodeEvents | undefined;
  const to = (): NodeEvents => {
    if (!handlers) throw new Error("node event raised before the node was wired");
    return handlers;
  };
  return {
    deviceLost: (session) => to().deviceLost(session),
    deviceOnline: (session) => to().deviceOnline(session),
    undeliverable: (device, body) => to().undeliverable(device, body),
    callEvent: (callId, origin) => to().callEvent(callId, origin),
    attach(h) {
      if (handlers) throw new Error("node events attached twice");
      handlers = h;
    },
  };
}
