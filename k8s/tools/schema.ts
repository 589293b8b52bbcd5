/**
 * Offline schema validation of rendered objects, in two passes:
 * 1. the JSON-schema validators that `kubernetes-models` (core API, OpenAPI of a pinned
 *    Kubernetes release) and `@kubernetes-models/prometheus-operator` (the CRDs' schemas)
 *    ship: required fields, types, formats, enums, patterns;
 * 2. unknown fields (what kubeconform calls -strict; those schemas allow extra properties):
 *    every object becomes a TypeScript literal typed with the same packages' interfaces, and
 *    the compiler's excess-property check reports any field the API does not define.
 * An apiVersion/kind with no schema is an error, never a skip.
 */
import { join } from "node:path";
import ts from "typescript";
import { describe, type K8sObject } from "./render.ts";

/** One problem found in one object; `path` is a JSON pointer into the object. */
export interface SchemaIssue {
  object: string;
  path: string;
  message: string;
}

interface ModelClass {
  new (data: unknown): { validate(): void };
}

const root = join(import.meta.dirname, "..", "..");

/** npm module that defines the model (and `I<Kind>` interface) of an apiVersion/kind. */
export function modelModule(apiVersion: string, kind: string): string {
  if (!/^[A-Za-z0-9]+$/.test(kind)) throw new Error(`invalid kind ${JSON.stringify(kind)}`);
  if (apiVersion.startsWith("monitoring.coreos.com/"))
    return `@kubernetes-models/prometheus-operator/${apiVersion}/${kind}`;
  return `kubernetes-models/${apiVersion}/${kind}`;
}

async function loadModel(o: K8sObject): Promise<ModelClass | string> {
  if (typeof o.apiVersion !== "string" || typeof o.kind !== "string") return "apiVersion and kind are required strings";
  try {
    const mod: Record<string, unknown> = await import(modelModule(o.apiVersion, o.kind));
    const model = mod[o.kind];
    return typeof model === "function" ? (model as ModelClass) : `no schema for ${o.apiVersion} ${o.kind}`;
  } catch {
    return `no schema for ${o.apiVersion} ${o.kind} (unknown apiVersion/kind)`;
  }
}

/** Pass 1: the bundled JSON-schema validators. */
async function schemaIssues(objects: K8sObject[]): Promise<{ issues: SchemaIssue[]; typed: K8sObject[] }> {
  const issues: SchemaIssue[] = [];
  const typed: K8sObject[] = [];
  for (const o of objects) {
    const model = await loadModel(o);
    if (typeof model === "string") {
      issues.push({ object: describe(o), path: "", message: model });
      continue;
    }
    typed.push(o);
    try {
      new model(o).validate();
    } catch (e) {
      for (const line of (e as Error).message.split(", ")) {
        const m = /^data(\S*) (.*)$/.exec(line);
        issues.push({ object: describe(o), path: m?.[1] ?? "", message: m?.[2] ?? line });
      }
    }
  }
  return { issues, typed };
}

/** JSON pointer of the literal at `pos` in the generated file, and the object's index. */
function locate(file: ts.SourceFile, pos: number): { index: number; path: string } {
  let node: ts.Node = file;
  for (;;) {
    const child: ts.Node | undefined = node.getChildren(file).find((c) => c.getStart(file) <= pos && pos < c.getEnd());
    if (!child) break;
    node = child;
  }
  const parts: string[] = [];
  for (let n: ts.Node | undefined = node; n; n = n.parent) {
    if (ts.isPropertyAssignment(n) && ts.isStringLiteral(n.name)) parts.unshift(n.name.text);
    const parent: ts.Node | undefined = n.parent;
    if (parent && ts.isArrayLiteralExpression(parent)) {
      const i = parent.elements.indexOf(n as ts.Expression);
      if (i >= 0) parts.unshift(String(i));
    }
    if (ts.isVariableDeclaration(n) && ts.isIdentifier(n.name)) {
      return { index: Number(n.name.text.slice(1)), path: parts.length ? `/${parts.join("/")}` : "" };
    }
  }
  return { index: -1, path: "" };
}

/** One compiler run over all objects: the first unknown field or type mismatch of each. */
function compileOnce(objects: K8sObject[], old?: ts.Program): { program: ts.Program; found: Located[] } {
  const file = join(root, "k8s", "__strict_check__.ts");
  const text = objects
    .map(
      (o, i) =>
        `import type { I${o.kind} as T${i} } from ${JSON.stringify(modelModule(o.apiVersion, o.kind))};\n` +
        `export const o${i}: T${i} = ${JSON.stringify(o, null, 1).replaceAll(`"${ANY}"`, "(null as any)")};`,
    )
    .join("\n");
  const host = ts.createCompilerHost(compilerOptions);
  const getSourceFile = host.getSourceFile.bind(host);
  const fileExists = host.fileExists.bind(host);
  host.getSourceFile = (f, lang, ...rest) =>
    f === file ? ts.createSourceFile(f, text, lang, true) : getSourceFile(f, lang, ...rest);
  host.fileExists = (f) => f === file || fileExists(f);
  const program = ts.createProgram([file], compilerOptions, host, old);
  const source = program.getSourceFile(file);
  if (!source) throw new Error("strict check: generated source missing");
  const found = ts.getPreEmitDiagnostics(program, source).map((d) => ({
    ...(d.start === undefined ? { index: -1, path: "" } : locate(source, d.start)),
    message: ts.flattenDiagnosticMessageText(d.messageText, " ").replace(/\s+/g, " ").slice(0, 300),
  }));
  return { program, found };
}

interface Located {
  index: number;
  path: string;
  message: string;
}

const compilerOptions: ts.CompilerOptions = {
  module: ts.ModuleKind.NodeNext,
  moduleResolution: ts.ModuleResolutionKind.NodeNext,
  target: ts.ScriptTarget.ES2022,
  strict: true,
  noEmit: true,
  skipLibCheck: true,
  types: [],
};

/** Marker for "any value": emitted as `(null as any)` so the compiler looks past a finding. */
const ANY = "__strict_check_any__";

/**
 * Neutralises one finding so the next compiler run can report the next one: an unknown field
 * is removed, a missing one is added and a mistyped one replaced, both as `any`.
 */
function neutralise(o: unknown, path: string, message: string): boolean {
  const parts = path.split("/").slice(1);
  const missing = /^Property '"?([^'"]+)"?' is missing/.exec(message)?.[1];
  if (missing) parts.push(missing);
  const last = parts.pop();
  let at: unknown = o;
  for (const p of parts) at = at && typeof at === "object" ? (at as Record<string, unknown>)[p] : undefined;
  if (last === undefined || !at || typeof at !== "object") return false;
  const holder = at as Record<string, unknown>;
  if (/may only specify known properties/.test(message)) {
    if (!(last in holder)) return false;
    delete holder[last];
  } else {
    if (holder[last] === ANY) return false;
    holder[last] = ANY;
  }
  return true;
}

/**
 * Pass 2: unknown fields and type mismatches, found by the TypeScript compiler. The compiler
 * stops at the first error of each object, so each finding is neutralised and the check
 * repeated until it is clean (bounded).
 */
function strictIssues(objects: K8sObject[]): SchemaIssue[] {
  const work = structuredClone(objects);
  const issues: SchemaIssue[] = [];
  let program: ts.Program | undefined;
  for (let round = 0; round < 25; round++) {
    const run = compileOnce(work, program);
    program = run.program;
    let progressed = false;
    for (const f of run.found) {
      const o = objects[f.index];
      issues.push({ object: o ? describe(o) : "(generated check file)", path: f.path, message: f.message });
      progressed = neutralise(work[f.index], f.path, f.message) || progressed;
    }
    if (!progressed) break;
  }
  return issues;
}

/** Validates every object against its schema, strictly; returns all issues (empty = valid). */
export async function validateObjects(objects: K8sObject[]): Promise<SchemaIssue[]> {
  const { issues, typed } = await schemaIssues(objects);
  return [...issues, ...(typed.length ? strictIssues(typed) : [])];
}

/** One issue per line, for assertion messages. */
export function formatIssues(issues: SchemaIssue[]): string {
  return issues.map((i) => `${i.object}${i.path ? ` ${i.path}` : ""}: ${i.message}`).join("\n");
}
