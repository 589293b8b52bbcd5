import { SignJWT } from "jose";

/** HS256 secret the bench servers verify tokens with (bench-only, local servers on 127.0.0.1). */
export const benchJwtSecret = "calldrop-bench-secret-0123456789abcdef0123456789";

/** Signs a user token as the messaging app would (issuer/audience of the server's defaults), valid 1 h. */
export function mintToken(userId: string): Promise<string> {
  return new SignJWT({})
    .setProtectedHeader({ alg: "HS256" })
    .setSubject(userId)
    .setIssuer("calldrop-dev")
    .setAudience("calldrop-calling")
    .setIssuedAt()
    .setExpirationTime(Math.floor(Date.now() / 1000) + 3600)
    .sign(new TextEncoder().encode(benchJwtSecret));
}
