/**
 * A throwaway self-signed TLS certificate for a test server (coturn's `turns:` listener):
 * ECDSA P-256, valid for a day, for `host` (an IP address or a DNS name) as its subject
 * alternative name. Made with the openssl command line; never used outside tests.
 */
import { execFileSync } from "node:child_process";
import { chmodSync } from "node:fs";
import { isIP } from "node:net";
import { join } from "node:path";

/** Paths of the PEM files written. */
export interface CertificateFiles {
  readonly cert: string;
  readonly key: string;
}

/** Writes `tls.crt` and `tls.key` (mode 0600) for `host` into `dir`. */
export function writeSelfSignedCertificate(dir: string, host: string): CertificateFiles {
  const cert = join(dir, "tls.crt");
  const key = join(dir, "tls.key");
  const san = isIP(host) ? `IP:${host}` : `DNS:${host}`;
  execFileSync(
    "openssl",
    ["req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-days", "1"].concat([
      "-subj",
      `/CN=${host}`,
      "-addext",
      `subjectAltName=${san}`,
      "-keyout",
      key,
      "-out",
      cert,
    ]),
    { stdio: "pipe" },
  );
  chmodSync(key, 0o600);
  return { cert, key };
}
