/**
 * Renders a kustomization with the real kustomize (the one built into kubectl, or a
 * standalone `kustomize`), so tests see exactly what `kubectl apply -k` would send.
 */
import { execFileSync, spawnSync } from "node:child_process";
import { parseAllDocuments } from "yaml";

/** A rendered Kubernetes object (untyped: validation decides what it is). */
export interface K8sObject {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; labels?: Record<string, string>; annotations?: Record<string, string> };
  [field: string]: unknown;
}

function onPath(binary: string): boolean {
  return spawnSync("sh", ["-c", `command -v ${binary}`], { stdio: "ignore" }).status === 0;
}

/** The kustomize command line to use; throws with install advice when there is none. */
export function kustomizeCommand(): { cmd: string; args: string[] } {
  if (onPath("kubectl")) return { cmd: "kubectl", args: ["kustomize"] };
  if (onPath("kustomize")) return { cmd: "kustomize", args: ["build"] };
  throw new Error(
    "no kustomize renderer: neither `kubectl` (kustomize built in) nor `kustomize` is on PATH. " +
      "Install kubectl >= 1.27 (kustomize v5), e.g. the machine image's kubectl package.",
  );
}

/** Version line of the renderer, for test logs. */
export function kustomizeVersion(): string {
  const { cmd } = kustomizeCommand();
  const args = cmd === "kubectl" ? ["version", "--client"] : ["version"];
  return execFileSync(cmd, args, { encoding: "utf8" }).trim().replaceAll("\n", "; ");
}

/** Renders the kustomization in `dir`; throws with kustomize's message when it fails. */
export function renderKustomization(dir: string): K8sObject[] {
  const { cmd, args } = kustomizeCommand();
  const r = spawnSync(cmd, [...args, dir], { encoding: "utf8", maxBuffer: 64 * 1024 * 1024 });
  if (r.status !== 0) throw new Error(`kustomize failed for ${dir}:\n${r.stderr || r.error?.message}`);
  return parseManifests(r.stdout);
}

/** Parses multi-document YAML into objects; YAML errors and non-objects throw. */
export function parseManifests(text: string): K8sObject[] {
  const out: K8sObject[] = [];
  for (const doc of parseAllDocuments(text)) {
    if (doc.errors.length > 0) throw new Error(`invalid YAML: ${doc.errors.map((e) => e.message).join("; ")}`);
    const value: unknown = doc.toJS();
    if (value === null || value === undefined) continue;
    if (typeof value !== "object" || Array.isArray(value)) throw new Error("a YAML document is not an object");
    out.push(value as K8sObject);
  }
  return out;
}

/** `Kind namespace/name`, for messages. */
export function describe(o: K8sObject): string {
  return `${o.kind} ${o.metadata?.namespace ? `${o.metadata.namespace}/` : ""}${o.metadata?.name}`;
}
