/**
 * Which RPCs are internal and the scope each takes (docs/spec.md §9 "Service tokens"): the one
 * place the auth interceptor consults. An RPC listed here takes a service token carrying its
 * scope and refuses user tokens; every other RPC takes a user token and refuses service tokens.
 */
import type { DescMethod } from "@bufbuild/protobuf";
import { CallEventsService } from "../../gen/calldrop/internal/v1/events_pb.js";
import { ServiceHistoryService } from "../../gen/calldrop/internal/v1/history_pb.js";

/** Scopes a service token may carry. */
export const serviceScopes = ["history:read", "calls.events:read"] as const;
export type ServiceScope = (typeof serviceScopes)[number];

const required = new Map<string, ServiceScope>(
  (
    [
      [ServiceHistoryService.method.listUserCalls, "history:read"],
      [ServiceHistoryService.method.getUserCall, "history:read"],
      [CallEventsService.method.subscribe, "calls.events:read"],
    ] as [DescMethod, ServiceScope][]
  ).map(([method, scope]) => [`${method.parent.typeName}/${method.name}`, scope]),
);

/** The scope `service`/`method` requires, or undefined for an RPC users call. */
export function requiredScope(serviceTypeName: string, methodName: string): ServiceScope | undefined {
  return required.get(`${serviceTypeName}/${methodName}`);
}

/** True when `scope` is one a service token may carry. */
export const isServiceScope = (scope: string): scope is ServiceScope =>
  (serviceScopes as readonly string[]).includes(scope);
