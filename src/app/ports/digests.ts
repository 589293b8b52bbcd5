/** Hashes and MACs as a port, so the app binds no crypto library (docs/style.md 1). */
export interface Digests {
  /** SHA-1 of the UTF-8 text, hex (rendezvous scores; not a security use). */
  sha1Hex(text: string): string;
  /** SHA-256 of the UTF-8 text, base64url. */
  sha256Base64url(text: string): string;
  /** HMAC-SHA1 of the UTF-8 text under `key`, base64 (coturn's TURN REST credential). */
  hmacSha1Base64(key: string, text: string): string;
}
