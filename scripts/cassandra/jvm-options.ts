/**
 * Java 17 options for a Cassandra 5.0 node, taken from Cassandra's conf/jvm17-server.options
 * (module exports/opens it needs on Java 17) plus what bin/cassandra would add.
 */
import { readdirSync } from "node:fs";
import { join } from "node:path";

const exportsList = [
  "java.base/jdk.internal.misc",
  "java.management.rmi/com.sun.jmx.remote.internal.rmi",
  "java.rmi/sun.rmi.registry",
  "java.rmi/sun.rmi.server",
  "java.sql/java.sql",
  "java.base/java.lang.ref",
  "jdk.unsupported/sun.misc",
  "jdk.compiler/com.sun.tools.javac.file",
  "jdk.attach/sun.tools.attach",
];

const opensList = [
  "java.base/java.lang.module",
  "java.base/jdk.internal.loader",
  "java.base/jdk.internal.ref",
  "java.base/jdk.internal.reflect",
  "java.base/jdk.internal.math",
  "java.base/jdk.internal.module",
  "java.base/jdk.internal.util.jar",
  "jdk.management/com.sun.management.internal",
  "java.base/sun.nio.ch",
  "java.base/java.io",
  "java.base/java.lang.reflect",
  "jdk.compiler/com.sun.tools.javac",
  "java.base/java.lang",
  "java.base/java.util",
];

/** The JVM arguments (before -cp) for a node whose jars are in `lib` and files in `dir`. */
export function jvmOptions(o: { lib: string; dir: string; heapMb: number; quickStart: boolean }): string[] {
  const jamm = readdirSync(o.lib).find((f) => /^jamm-.*\.jar$/.test(f));
  if (!jamm) throw new Error(`no jamm jar in ${o.lib}`);
  return [
    `-Xms${o.heapMb}m`,
    `-Xmx${o.heapMb}m`,
    "-Xss512k",
    "-XX:+UseG1GC",
    "-XX:+ParallelRefProcEnabled",
    "-XX:MaxTenuringThreshold=1",
    "-XX:MaxGCPauseMillis=300",
    "-XX:+HeapDumpOnOutOfMemoryError",
    "-XX:HeapDumpPath=/dev/null",
    ...(o.quickStart ? ["-XX:TieredStopAtLevel=1"] : []),
    `-javaagent:${join(o.lib, jamm)}`,
    "-Djava.net.preferIPv4Stack=true",
    "-Djdk.attach.allowAttachSelf=true",
    "-Dio.netty.tryReflectionSetAccessible=true",
    "-Dio.netty.allocator.useCacheForAllThreads=true",
    "-Dio.netty.allocator.maxOrder=11",
    ...exportsList.flatMap((m) => ["--add-exports", `${m}=ALL-UNNAMED`]),
    ...opensList.flatMap((m) => ["--add-opens", `${m}=ALL-UNNAMED`]),
    "-Dcassandra-foreground=yes",
    `-Dcassandra.config=file://${join(o.dir, "cassandra.yaml")}`,
    `-Dcassandra.storagedir=${join(o.dir, "data")}`,
    `-Dcassandra.logdir=${o.dir}`,
    "-Dcassandra.skip_wait_for_gossip_to_settle=0",
    "-Dcassandra.superuser_setup_delay_ms=0",
    "-Dcassandra.ring_delay_ms=1000",
  ];
}
