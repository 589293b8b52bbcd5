/** Hashes the domain decides by, identical on every node and in every client. */

/** 32-bit FNV-1a of the string's UTF-16 code units (call ids are ASCII). */
export function fnv1a(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h;
}
