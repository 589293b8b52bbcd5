import type { Scenario } from "../lib/scenario.ts";
import relayTransport from "./relay-transport/index.ts";

/** Every scenario `npm run bench` knows, in default run order. Add new ones here. */
export const scenarios: Scenario[] = [relayTransport];
