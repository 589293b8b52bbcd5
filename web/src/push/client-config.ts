/** What the server tells the web client about itself (`GET /client-config`, unauthenticated). */

/** The client configuration. */
export interface ClientConfig {
  /** The VAPID public key (base64url) to subscribe with; null when the server does not send Web Push. */
  readonly webPushPublicKey: string | null;
}

/** Fetches the configuration; an unreachable or older server reads as "no Web Push". */
export async function fetchClientConfig(baseUrl: string): Promise<ClientConfig> {
  try {
    const res = await fetch(`${baseUrl}/client-config`, { cache: "no-store" });
    if (!res.ok) return { webPushPublicKey: null };
    const body = (await res.json()) as { webPushPublicKey?: unknown };
    return { webPushPublicKey: typeof body.webPushPublicKey === "string" ? body.webPushPublicKey : null };
  } catch {
    return { webPushPublicKey: null };
  }
}
