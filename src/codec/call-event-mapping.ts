/** CallEventsService messages from logged call events (docs/spec.md §9 "Call events"). */
import { create, toJsonString } from "@bufbuild/protobuf";
import { timestampFromMs } from "@bufbuild/protobuf/wkt";
import { type CallEvent, CallEventSchema } from "../../gen/calldrop/internal/v1/events_pb.js";
import { type LoggedCallEvent, occurredAtMs } from "../app/ports/call-event-log.ts";
import { recordToProto } from "./proto-mapping.ts";

/** The wire form of `e`: the fact of its kind, from the call's record as the history shows it. */
export function callEventToProto(e: LoggedCallEvent): CallEvent {
  const { call } = e;
  const header = {
    eventId: e.eventId,
    callId: call.callId,
    occurredAt: timestampFromMs(occurredAtMs(e)),
    partition: e.partition,
    callerUserId: call.caller.userId,
    calleeUserId: call.calleeUserId,
  };
  switch (e.kind) {
    case "started":
      return create(CallEventSchema, {
        ...header,
        kind: {
          case: "started",
          value: {
            callerDeviceId: call.caller.deviceId,
            video: call.video,
            ringDeadline: timestampFromMs(call.ringDeadlineMs),
          },
        },
      });
    case "answered":
      return create(CallEventSchema, {
        ...header,
        kind: { case: "answered", value: { deviceId: call.answeredDeviceId ?? "" } },
      });
    case "ended": {
      const r = recordToProto(call);
      return create(CallEventSchema, {
        ...header,
        kind: {
          case: "ended",
          value: {
            outcome: r.outcome,
            reason: r.endReason,
            durationMs: r.durationMs,
            path: r.path,
            ...(r.quality ? { quality: r.quality } : {}),
            answeredDeviceId: r.answeredDeviceId,
            setupMs: r.setupMs,
          },
        },
      });
    }
  }
}

/** The canonical proto JSON of `e` (a webhook's body): field names in lowerCamelCase, enums by name. */
export function callEventToJson(e: LoggedCallEvent): string {
  return toJsonString(CallEventSchema, callEventToProto(e));
}
