/**
 * The checks of a push target that need the platform's network and crypto code, as a port,
 * so the app binds neither (docs/style.md 1).
 */
export interface PushTargetChecks {
  /** True when `host` is an IP literal (v4 or v6, no brackets) in a loopback, private, link-local or mapped range. */
  isPrivateAddress(host: string): boolean;
  /** True when `key` is an uncompressed point (0x04 ‖ x ‖ y) on the P-256 curve. */
  isP256Point(key: Uint8Array): boolean;
}
