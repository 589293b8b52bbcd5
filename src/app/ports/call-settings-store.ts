/**
 * What a user set about how they take calls (docs/spec.md §14 "Call waiting"). Absent fields were
 * never set: the service's defaults apply (call-settings.ts).
 */
export interface StoredCallSettings {
  /** Whether a call reaching the user in an answered call rings as a waiting call (else: busy). */
  readonly callWaiting?: boolean;
}

/**
 * Users' call settings, keyed by user. Shared by every node that runs calls (the Cassandra adapter
 * in a cluster), read at a call start that finds the callee in a call.
 */
export interface CallSettingsStore {
  /** What `userId` set (`{}` when nothing). */
  get(userId: string): Promise<StoredCallSettings>;
  /** Sets the fields present in `settings`, keeping the others; returns what is stored now. */
  update(userId: string, settings: StoredCallSettings): Promise<StoredCallSettings>;
  /** Releases connections/files. */
  close(): Promise<void>;
}
