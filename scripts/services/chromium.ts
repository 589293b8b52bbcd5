/**
 * Debian Chromium for the browser suite (test/browser/**): installed when missing,
 * nothing to start — each test launches its own instances with playwright-core.
 */
import { ensureDebianPackage } from "./apt-install.ts";
import type { TestService } from "./service.ts";

const chromium: TestService = {
  name: "chromium",
  async start(log) {
    const executable = ensureDebianPackage("chromium", "/usr/bin/chromium", log);
    return { env: { CALLDROP_TEST_CHROMIUM: executable }, stop: async () => {} };
  },
};

export default chromium;
