import type { Logger } from "pino";
import type { NotificationMetrics } from "../../app/ports/metrics.ts";
import type { Notifier } from "../../app/ports/notifier.ts";
import type { Notification } from "../../domain/call-types.ts";

/**
 * The single-node default notifier: no push targets, notifications are logged
 * and kept in memory (`sent`) so tests and operators can see what was decided.
 */
export interface LogNotifier extends Notifier {
  readonly sent: readonly Notification[];
}

/**
 * Creates a notifier that logs each notification (without secrets or payload bodies);
 * with `metrics`, each one counts as sent on channel "log".
 */
export function createLogNotifier(logger: Logger, maxKept = 1000, metrics?: NotificationMetrics): LogNotifier {
  const sent: Notification[] = [];
  return {
    sent,
    hasPushTarget: async () => false,
    async notify(notification) {
      sent.push(notification);
      if (sent.length > maxKept) sent.shift();
      metrics?.count(notification.kind, "log", "sent");
      logger.info(
        { notification: notification.kind, callId: notification.callId, userId: notification.userId },
        "notification",
      );
    },
  };
}
