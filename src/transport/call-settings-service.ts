/** CallSettingsService handlers: the caller reads and changes only their own settings (docs/spec.md §14, §9). */

import type { HandlerContext, ServiceImpl } from "@connectrpc/connect";
import type { CallSettingsService } from "../../gen/calldrop/v1/settings_pb.js";
import type { CallSettings, EffectiveCallSettings } from "../app/call-settings.ts";
import { callerOf } from "./signal-service.ts";

const toProto = (s: EffectiveCallSettings) => ({ callWaiting: s.callWaiting });

/** Creates the CallSettingsService implementation; the user is the authenticated caller (`callerOf`). */
export function createCallSettingsService(
  settings: CallSettings,
  userOf: (ctx: HandlerContext) => string = (ctx) => callerOf(ctx).userId,
): ServiceImpl<typeof CallSettingsService> {
  return {
    async getCallSettings(_req, ctx) {
      return { settings: toProto(await settings.get(userOf(ctx))) };
    },
    async updateCallSettings(req, ctx) {
      const change = req.callWaiting === undefined ? {} : { callWaiting: req.callWaiting };
      return { settings: toProto(await settings.update(userOf(ctx), change)) };
    },
  };
}
