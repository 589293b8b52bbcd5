/** One entry of a user's block list (docs/spec.md §14 "Blocking"). */
export interface BlockedUser {
  readonly userId: string;
  readonly blockedAtMs: number;
}

/**
 * Users' block lists, keyed by (user, blocked user). Blocking twice keeps the first entry.
 * Shared by every node that runs calls (the Cassandra adapter in a cluster).
 */
export interface BlockList {
  /** Adds `blockedUserId` to `userId`'s list (at `atMs`), or keeps the entry there; returns the stored entry. */
  block(userId: string, blockedUserId: string, atMs: number): Promise<BlockedUser>;
  /** Removes the entry; true when there was one. */
  unblock(userId: string, blockedUserId: string): Promise<boolean>;
  /** `userId`'s list, most recently blocked first. */
  list(userId: string): Promise<readonly BlockedUser[]>;
  /** Whether `userId` blocked `otherUserId`. */
  isBlocked(userId: string, otherUserId: string): Promise<boolean>;
  /** Releases connections/files. */
  close(): Promise<void>;
}
