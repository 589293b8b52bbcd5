/**
 * Where the etcd call directory keeps a call (docs/spec.md §10; docs/cluster.md "Call directory size"). Each
 * call has four keys — the call (owner and state), a pointer per user (the call id: what a
 * claim compares), and an owner index entry (for takeovers) — in one of two layouts:
 *
 *   compact (written since issue 12; UUID call ids, i.e. every id the Ids port makes):
 *     <prefix>C<call id, 16 bytes>                      → encodeStoredCall (binary)
 *     <prefix>U<SHA-256(user id), first 12 bytes>       → call id, 16 bytes
 *     <prefix>W<SHA-256(user id), first 12 bytes>       → call id, 16 bytes (the user's second call)
 *     <prefix>O<SHA-256(node id), first 8 bytes><call id, 16 bytes> → ""
 *   legacy (what nodes wrote before; still read, and written for other call ids):
 *     <prefix>calls/<callId>                → JSON {"ownerNodeId", "state"}
 *     <prefix>call-users/<userId>           → callId
 *     <prefix>call-waiting/<userId>         → callId (the user's second call)
 *     <prefix>call-owners/<nodeId>/<callId> → ""
 *
 * Hashed user and node ids keep keys short whatever the identity provider's ids look like;
 * the call value names both users and the owner in full, and readers check them, so a call is
 * never attributed to the wrong user. A user has a second pointer for a second live call: a waiting
 * call, or the one answered while another rang (docs/spec.md §14 "Call waiting"); nodes from before
 * call waiting read only the first, so a rolling upgrade enables call waiting once every node reads both. Two users whose hashes collided (odds 2^-96 per pair) would
 * share one pointer key: the later claim would take it over, and their busy checks interfere.
 */
import { createHash } from "node:crypto";
import { Range } from "etcd3";
import {
  encodeJsonStoredCall,
  encodeStoredCall,
  isUuid,
  type StoredCall,
  uuidBytes,
  uuidString,
} from "./etcd-directory-codec.ts";

/** The layouts by name: what the adapter writes new calls in. */
export type DirectoryLayoutName = "compact" | "legacy";

/** One layout's keys and values. */
export interface DirectoryLayout {
  readonly name: DirectoryLayoutName;
  /** Whether this layout can hold a call with this id. */
  holds(callId: string): boolean;
  callKey(callId: string): Buffer;
  userKey(userId: string): Buffer;
  /** The user's second pointer (§14 "Call waiting"). */
  waitingKey(userId: string): Buffer;
  ownerKey(nodeId: string, callId: string): Buffer;
  /** The owner index entries of one node. */
  ownerRange(nodeId: string): Range;
  /** Every call key, in call id order. */
  readonly calls: Range;
  /** The first call key after `callId` in call id order (for a `callId` this layout holds, or ""). */
  callsAfter(callId: string): Buffer;
  callIdOfCallKey(key: Buffer): string;
  callIdOfOwnerKey(key: Buffer): string;
  /** A user's pointer value, and the call id in one. */
  pointer(callId: string): Buffer;
  callIdOfPointer(value: Buffer): string;
  encode(stored: StoredCall): Buffer;
}

const digest = (s: string, bytes: number) => createHash("sha256").update(s).digest().subarray(0, bytes);
const cat = (...parts: (string | Uint8Array)[]) =>
  Buffer.concat(parts.map((p) => (typeof p === "string" ? Buffer.from(p) : p)));
/** The key right after every key that starts with `key`'s bytes and is longer (range start "after key"). */
const after = (key: Buffer) => cat(key, Buffer.from([0]));

/** The compact layout under `prefix`. */
export function compactLayout(prefix: string): DirectoryLayout {
  const call = cat(prefix, "C");
  const user = cat(prefix, "U");
  const waiting = cat(prefix, "W");
  const owner = cat(prefix, "O");
  const ownerPrefix = (nodeId: string) => cat(owner, digest(nodeId, 8));
  return {
    name: "compact",
    holds: isUuid,
    callKey: (callId) => cat(call, uuidBytes(callId)),
    userKey: (userId) => cat(user, digest(userId, 12)),
    waitingKey: (userId) => cat(waiting, digest(userId, 12)),
    ownerKey: (nodeId, callId) => cat(ownerPrefix(nodeId), uuidBytes(callId)),
    ownerRange: (nodeId) => Range.prefix(ownerPrefix(nodeId)),
    calls: Range.prefix(call),
    callsAfter: (callId) => (callId === "" ? call : after(cat(call, uuidBytes(callId)))),
    callIdOfCallKey: (key) => uuidString(key.subarray(call.length)),
    callIdOfOwnerKey: (key) => uuidString(key.subarray(key.length - 16)),
    pointer: (callId) => uuidBytes(callId),
    callIdOfPointer: (value) => uuidString(value),
    encode: encodeStoredCall,
  };
}

/** The layout nodes wrote before the compact one, under `prefix`. */
export function legacyLayout(prefix: string): DirectoryLayout {
  const call = `${prefix}calls/`;
  return {
    name: "legacy",
    holds: () => true,
    callKey: (callId) => cat(call, callId),
    userKey: (userId) => cat(prefix, "call-users/", userId),
    waitingKey: (userId) => cat(prefix, "call-waiting/", userId),
    ownerKey: (nodeId, callId) => cat(prefix, "call-owners/", nodeId, "/", callId),
    ownerRange: (nodeId) => Range.prefix(`${prefix}call-owners/${nodeId}/`),
    calls: Range.prefix(call),
    callsAfter: (callId) => after(cat(call, callId)),
    callIdOfCallKey: (key) => key.subarray(Buffer.byteLength(call)).toString(),
    callIdOfOwnerKey: (key) => {
      const s = key.toString();
      return s.slice(s.lastIndexOf("/") + 1);
    },
    pointer: (callId) => Buffer.from(callId),
    callIdOfPointer: (value) => value.toString(),
    encode: encodeJsonStoredCall,
  };
}
