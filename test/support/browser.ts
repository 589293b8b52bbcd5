/**
 * Debian Chromium driven by playwright-core (no browser download): one persistent
 * context per peer in its own temp profile, fake camera/microphone, flags from
 * shared/notes/browser-webrtc.md.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type BrowserContext, chromium, type Page } from "playwright-core";

/** Chromium flags for headless WebRTC on loopback with fake media. */
export const CHROMIUM_ARGS = [
  "--no-sandbox",
  "--disable-gpu",
  "--disable-quic",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
  "--use-fake-device-for-media-stream=fps=30",
  "--use-fake-ui-for-media-stream",
  // Without it Chromium gathers no candidates on 127.0.0.1 (nor relays through a loopback TURN).
  "--allow-loopback-in-peer-connection",
  "--autoplay-policy=no-user-gesture-required",
];

/** The Chromium binary from CALLDROP_TEST_CHROMIUM; fails clearly when unset. */
export function chromiumPath(): string {
  const path = process.env.CALLDROP_TEST_CHROMIUM;
  if (!path) {
    throw new Error("CALLDROP_TEST_CHROMIUM is not set: run through `npm test` (scripts/services/chromium.ts)");
  }
  return path;
}

/** One browser (a person's device). */
export interface Peer {
  readonly name: string;
  readonly context: BrowserContext;
  readonly page: Page;
  close(): Promise<void>;
}

/**
 * Launches a peer; `extraArgs` add flags, `baseArgs` replace the defaults (e.g. to deny the camera),
 * `executablePath` replaces the binary (e.g. a wrapper starting it in a network namespace).
 */
export async function launchPeer(
  name: string,
  extraArgs: readonly string[] = [],
  baseArgs: readonly string[] = CHROMIUM_ARGS,
  executablePath: string = chromiumPath(),
): Promise<Peer> {
  const profile = mkdtempSync(join(tmpdir(), `calldrop-${name}-`));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath,
    headless: true,
    args: [...baseArgs, ...extraArgs],
    viewport: { width: 900, height: 800 },
  });
  const page = context.pages()[0] ?? (await context.newPage());
  return {
    name,
    context,
    page,
    async close() {
      await context.close().catch(() => {});
      rmSync(profile, { recursive: true, force: true });
    },
  };
}
