/** The scenario suite on one server process (in-process presence, no etcd). */
import { scenarios } from "./scenarios.ts";
import { singleNode } from "./topology.ts";

scenarios("scenarios: single node", singleNode, { etcd: false }); // one node has no etcd to restart
