import type { Logger } from "pino";
import type { Notifier } from "../../app/ports/notifier.ts";
import type { Notification } from "../../domain/call-types.ts";

/**
 * The single-node default notifier: no push targets, notifications are logged
 * and kept in memory (`sent`) so tests and operators can see what was decided.
 */
export interface LogNotifier extends Notifier {
  readonly sent: readonly Notification[];
}

/** Creates a notifier that logs each notification (without secrets or payload bodies). */
export function createLogNotifier(logger: Logger, maxKept = 1000): LogNotifier {
  const sent: Notification[] = [];
  return {
    sent,
    hasPushTarget: async () => false,
    async notify(notification) {
      sent.push(notification);
      if (sent.length > maxKept) sent.shift();
      logger.info(
        { notification: notification.kind, callId: notification.callId, userId: notification.userId },
        "notification",
      );
    },
  };
}
