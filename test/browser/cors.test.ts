/**
 * CORS in real Chromium: a page on another origin than the server (the messaging app's
 * web client, here http://localhost:<port> against the API on http://127.0.0.1:<port>)
 * makes a Connect unary call and a server-streaming call with the web client's API
 * module. An allowed origin gets through; a page on an origin not in
 * server.corsAllowedOrigins is refused by the browser.
 */
import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import http from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import sirv from "sirv";
import { build } from "vite";
import { launchPeer, type Peer } from "../support/browser.ts";
import { type ServerProcess, startServer } from "../support/server-process.ts";
import type { CorsProbeResult } from "./cors-page.ts";

/** Bundles cors-page.ts with the web client's dependencies into `outDir`, beside an index.html loading it. */
async function buildPage(outDir: string): Promise<void> {
  await build({
    configFile: false,
    logLevel: "warn",
    build: {
      outDir,
      emptyOutDir: true,
      lib: { entry: join(import.meta.dirname, "cors-page.ts"), formats: ["es"], fileName: () => "page.js" },
    },
  });
  writeFileSync(
    join(outDir, "index.html"),
    '<!doctype html><title>chat</title><script type="module" src="page.js"></script>',
  );
}

describe("CORS: the API called from a page on another origin", () => {
  let pageDir: string;
  let pages: http.Server;
  let pagePort: number;
  let server: ServerProcess;
  let peer: Peer;

  before(async () => {
    pageDir = mkdtempSync(join(tmpdir(), "calldrop-cors-page-"));
    await buildPage(pageDir);
    pages = http.createServer(sirv(pageDir));
    await new Promise<void>((resolve) => pages.listen(0, "127.0.0.1", resolve));
    pagePort = (pages.address() as AddressInfo).port;
    server = await startServer({
      CALLDROP_SERVER__CORS_ALLOWED_ORIGINS: JSON.stringify([`http://localhost:${pagePort}`]),
    });
    peer = await launchPeer("cors");
  });

  after(async () => {
    await peer?.close();
    await server?.stop();
    await new Promise((resolve) => pages?.close(resolve));
    rmSync(pageDir, { recursive: true, force: true });
  });

  /** Opens the page at `origin` and runs the probe against the API with a token for `userId`. */
  async function probe(origin: string, userId: string): Promise<{ result: CorsProbeResult; console: string[] }> {
    const console: string[] = [];
    const onConsole = (m: { text(): string }) => console.push(m.text());
    peer.page.on("console", onConsole);
    try {
      await peer.page.goto(`${origin}/index.html`);
      await peer.page.waitForFunction(() => "corsProbe" in window);
      const token = await server.token(userId);
      const result = await peer.page.evaluate(
        ([baseUrl, t]) =>
          (window as unknown as { corsProbe(b: string, t: string): Promise<CorsProbeResult> }).corsProbe(baseUrl, t),
        [server.baseUrl, token] as const,
      );
      return { result, console };
    } finally {
      peer.page.off("console", onConsole);
    }
  }

  it("an allowed origin makes a unary and a server-streaming call", async () => {
    const { result } = await probe(`http://localhost:${pagePort}`, "carol");
    assert.deepEqual(result, { unary: "ok", stream: "ok" });
  });

  it("an origin that is not allowed is refused by the browser", async () => {
    const { result, console } = await probe(`http://127.0.0.1:${pagePort}`, "dave");
    assert.doesNotMatch(result.unary, /^ok/);
    assert.doesNotMatch(result.stream, /^ok/);
    const blocked = console.filter((line) => /blocked by CORS policy/.test(line));
    assert.ok(blocked.length >= 2, `both calls blocked by CORS policy; console: ${console.join("\n")}`);
  });
});
