import { SignJWT } from "jose";

/** HS256 secret the bench servers verify tokens with (bench-only, local servers on 127.0.0.1). */
export const benchJwtSecret = "calldrop-bench-secret-0123456789abcdef0123456789";

/** Signs a user token as the messaging app would (issuer/audience of the server's defaults), valid 1 h. */
export function mintToken(userId: string): Promise<string> {
  return sign(userId, {});
}

/** Signs a service token (docs/spec.md §9 "Service tokens") for `service` with `scope`, valid 1 h. */
export function mintServiceToken(service: string, scope: string): Promise<string> {
  return sign(service, { kind: "service", scope });
}

function sign(subject: string, claims: Record<string, string>): Promise<string> {
  return new SignJWT(claims)
    .setProtectedHeader({ alg: "HS256" })
    .setSubject(subject)
    .setIssuer("calldrop-dev")
    .setAudience("calldrop-calling")
    .setIssuedAt()
    .setExpirationTime(Math.floor(Date.now() / 1000) + 3600)
    .sign(new TextEncoder().encode(benchJwtSecret));
}
