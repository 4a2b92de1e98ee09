// Offline checks of what an operator deploys, run by tests/ChatBlazor.Deploy.Tests (Kubernetes/):
//
//   node validate.mjs objects < rendered.yaml   every object of `kubectl kustomize` output against the Kubernetes
//                                               schemas (npm kubernetes-models); the objects as JSON on stdout
//   node validate.mjs lint FILE...              strict YAML: one problem per line on stdout, exit 1 if any
//   node validate.mjs json FILE                 one YAML document as JSON (the tests read kustomization.yaml)
//
// Exit codes: 0 fine, 1 problems found (listed), 2 bad usage.
import { readFileSync } from "node:fs";
import { isScalar, parseAllDocuments, parseDocument, visit } from "yaml";

const [mode, ...args] = process.argv.slice(2);
const strict = { uniqueKeys: true, strict: true, prettyErrors: true };

async function objects(text) {
  const problems = [];
  const found = [];
  for (const doc of parseAllDocuments(text, strict)) {
    for (const e of [...doc.errors, ...doc.warnings]) problems.push(`YAML: ${e.message}`);
    const object = doc.toJS();
    if (object === null || object === undefined) continue;
    const id = `${object.kind}/${object.metadata?.name}`;
    const model = await modelOf(object.apiVersion, object.kind);
    if (!model) {
      // An object nobody can check is refused, not waved through: add its schema here when one is introduced.
      problems.push(`${id}: no schema for apiVersion ${object.apiVersion} kind ${object.kind}`);
      continue;
    }
    try {
      new model(unwrapBase64(object)).validate();
    } catch (e) {
      const details = (e.errors ?? []).map((x) => `${x.instancePath || "/"} ${x.message ?? x.keyword}`).join("; ");
      problems.push(`${id}: ${details || e.message}`);
    }
    found.push(object);
  }
  if (problems.length > 0) {
    console.error(problems.join("\n"));
    return 1;
  }
  process.stdout.write(JSON.stringify(found));
  return 0;
}

// kustomize wraps the base64 of long Secret values over several lines; the API server's decoder skips the line
// breaks, the schema's "byte" format does not.
function unwrapBase64(object) {
  const binary = object.kind === "Secret" ? "data" : object.kind === "ConfigMap" ? "binaryData" : null;
  if (!binary || !object[binary]) return object;
  const values = Object.fromEntries(Object.entries(object[binary]).map(([k, v]) => [k, typeof v === "string" ? v.replace(/[\r\n]/g, "") : v]));
  return { ...object, [binary]: values };
}

async function modelOf(apiVersion, kind) {
  if (typeof apiVersion !== "string" || typeof kind !== "string" || !/^[a-z0-9.]+(\/[a-z0-9]+)?$/.test(apiVersion)) return null;
  try {
    const module = await import(`kubernetes-models/${apiVersion}`);
    return module[kind] ?? null;
  } catch {
    return null;
  }
}

// Kubernetes and Compose read YAML 1.1, where these plain scalars are booleans or octal numbers; YAML 1.2 tools
// (and readers of the file) take them for strings or decimals. Quote them, or write the number in decimal.
const ambiguous = /^(y|Y|yes|Yes|YES|n|N|no|No|NO|on|On|ON|off|Off|OFF|[-+]?0[0-7]+)$/;

function lint(files) {
  const problems = [];
  for (const file of files) {
    const text = readFileSync(file, "utf8");
    if (text.includes("\r")) problems.push(`${file}: carriage returns (write LF line endings)`);
    const docs = parseAllDocuments(text, strict);
    if (docs.length === 0) problems.push(`${file}: no YAML document`);
    for (const doc of docs) {
      for (const e of [...doc.errors, ...doc.warnings]) problems.push(`${file}: ${e.message.split("\n")[0]}`);
      visit(doc, {
        Scalar(_, node) {
          if (isScalar(node) && node.type === "PLAIN" && ambiguous.test(node.source ?? String(node.value)))
            problems.push(`${file}:${line(text, node.range[0])}: "${node.source}" means something else in YAML 1.1; quote it or write it in decimal`);
        },
      });
    }
  }
  if (problems.length > 0) {
    console.log(problems.join("\n"));
    return 1;
  }
  return 0;
}

function json(file) {
  const doc = parseDocument(readFileSync(file, "utf8"), strict);
  if (doc.errors.length > 0) {
    console.error(doc.errors.map((e) => e.message).join("\n"));
    return 1;
  }
  process.stdout.write(JSON.stringify(doc.toJS()));
  return 0;
}

function line(text, offset) {
  return text.slice(0, offset).split("\n").length;
}

if (mode === "objects") process.exit(await objects(readFileSync(0, "utf8")));
else if (mode === "lint" && args.length > 0) process.exit(lint(args));
else if (mode === "json" && args.length === 1) process.exit(json(args[0]));
else {
  console.error("usage: node validate.mjs objects < rendered.yaml | lint FILE... | json FILE");
  process.exit(2);
}
