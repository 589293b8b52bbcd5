/** The usual start of a two-browser test: a server and Alice's and Bob's Chromiums, both signed in. */

import { signIn } from "./app-driver.ts";
import type { Peer } from "./browser.ts";
import { startServer, type TestServer } from "./server.ts";

/** Starts a server with `env` and two peers made by `launch`, signed in as alice and bob. */
export async function signedInPair(
  launch: (name: string) => Promise<Peer>,
  env?: Record<string, string>,
): Promise<{ server: TestServer; alice: Peer; bob: Peer }> {
  const server = await startServer(env);
  const [alice, bob] = await Promise.all([launch("alice"), launch("bob")]);
  await signIn(alice.page, server.url, "alice");
  await signIn(bob.page, server.url, "bob");
  return { server, alice, bob };
}
