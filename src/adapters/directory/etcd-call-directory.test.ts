import { randomUUID } from "node:crypto";
import { Etcd3 } from "etcd3";
import { sharedEtcdEndpoint } from "../../../test/support/etcd-control.ts";
import type { CallDirectory } from "../../app/ports/call-directory.ts";
import { callDirectoryContract } from "./call-directory.contract.ts";
import { createEtcdCallDirectory } from "./etcd-call-directory.ts";

callDirectoryContract("etcd (clients sharing one etcd)", () => {
  const endpoint = sharedEtcdEndpoint();
  const keyPrefix = `/calldrop-test-${randomUUID()}/`;
  const opened: CallDirectory[] = [];
  return {
    open() {
      const d = createEtcdCallDirectory({ endpoints: [endpoint], keyPrefix });
      opened.push(d);
      return d;
    },
    async close() {
      for (const d of opened) await d.close();
      const client = new Etcd3({ hosts: `http://${endpoint}` });
      await client.delete().prefix(keyPrefix).exec();
      client.close();
    },
  };
});
