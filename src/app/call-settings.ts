/**
 * Users' call settings as they manage them (CallSettingsService, docs/spec.md §14 "Call waiting"):
 * only ever the calling user's own, with the defaults filled in; and the check a call start makes.
 */

import type { Logger } from "pino";
import { isDomainError } from "../domain/errors.ts";
import type { CallSettingsStore, StoredCallSettings } from "./ports/call-settings-store.ts";

/** A user's call settings with the defaults applied. */
export interface EffectiveCallSettings {
  readonly callWaiting: boolean;
}

/** What a user has before they set anything: call waiting on, as phones ship. */
export const defaultCallSettings: EffectiveCallSettings = { callWaiting: true };

/** Read and change the caller's own call settings; and whether a call may wait. */
export interface CallSettings {
  get(userId: string): Promise<EffectiveCallSettings>;
  /** Changes the fields present, keeps the others; returns the settings now in force. */
  update(userId: string, change: StoredCallSettings): Promise<EffectiveCallSettings>;
  /**
   * Whether a call reaching `userId` while in a call rings as a waiting call. Settings that cannot
   * be read (the store is down) count as the default: calls keep working through a store outage.
   */
  takesWaitingCalls(userId: string): Promise<boolean>;
}

/** Creates the call settings service over its store. */
export function createCallSettings(deps: { readonly store: CallSettingsStore; readonly logger: Logger }): CallSettings {
  const effective = (s: StoredCallSettings): EffectiveCallSettings => ({ ...defaultCallSettings, ...s });
  return {
    get: async (userId) => effective(await deps.store.get(userId)),
    update: async (userId, change) => effective(await deps.store.update(userId, change)),
    async takesWaitingCalls(userId) {
      try {
        return effective(await deps.store.get(userId)).callWaiting;
      } catch (err) {
        if (!isDomainError(err, "unavailable")) throw err;
        deps.logger.warn({ err, userId }, "call settings unavailable: the default applies");
        return defaultCallSettings.callWaiting;
      }
    },
  };
}
