/** New identifiers and secrets as a port, so the app binds no id or crypto library (docs/style.md 1). */
export interface Ids {
  /** A new call id, time-ordered so that history ties on start time keep creation order. */
  callId(): string;
  /** A new session id. */
  sessionId(): string;
  /** A new unguessable secret (192 random bits, base64url), as in resume tokens. */
  secret(): string;
}
