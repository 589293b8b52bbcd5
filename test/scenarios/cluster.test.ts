/** The scenario suite on three server processes sharing one etcd and one store file. */
import { scenarios } from "./scenarios.ts";
import { threeNodes } from "./topology.ts";

scenarios("scenarios: 3-node cluster", threeNodes, { etcd: true });
