// Offline checks of what an operator deploys, run by tests/ChatBlazor.Deploy.Tests (Kubernetes/):
//
//   node validate.mjs objects < rendered.yaml   every object of `kubectl kustomize` output against the Kubernetes
//                                               schemas (npm kubernetes-models), unknown fields refused; the
//                                               objects as JSON on stdout
//   node validate.mjs lint FILE...              strict YAML: one problem per line on stdout, exit 1 if any
//   node validate.mjs json FILE                 one YAML document as JSON (the tests read kustomization.yaml)
//
// Exit codes: 0 fine, 1 problems found (listed), 2 bad usage.
import { existsSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
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
    const declaration = join(dirname(fileURLToPath(import.meta.resolve(`kubernetes-models/${object.apiVersion}`))), `${object.kind}.d.ts`);
    for (const path of unknownFields(object, declaration, "")) problems.push(`${id}: unknown field ${path}`);
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

// The schemas check types and required fields but let unknown ones through, and the API server only warns about
// them: a misspelt or misplaced field (a patch that puts nodeSelector on a container) would be dropped unseen. The
// fields each type declares are read from the package's TypeScript declarations, one interface per file.
function unknownFields(value, declarationFile, path) {
  const type = declaredFields(declarationFile);
  if (!type || value === null || typeof value !== "object" || Array.isArray(value)) return [];
  const found = [];
  for (const [key, child] of Object.entries(value)) {
    const fieldType = type.fields.get(key);
    if (fieldType === undefined) found.push(`${path}/${key}`);
    else found.push(...unknownInType(child, fieldType, type, `${path}/${key}`));
  }
  return found;
}

function unknownInType(value, fieldType, type, path) {
  const array = /^Array<(\w+)>$/.exec(fieldType);
  if (array && Array.isArray(value)) return value.flatMap((item, i) => unknownInType(item, array[1], type, `${path}/${i}`));
  const map = /^map<(\w+)>$/.exec(fieldType);
  if (map && value && typeof value === "object") return Object.entries(value).flatMap(([k, v]) => unknownInType(v, map[1], type, `${path}/${k}`));
  const file = type.imports.get(fieldType);
  return file ? unknownFields(value, file, path) : []; // a primitive, a literal or a union: nothing inside to check
}

const declarations = new Map();

function declaredFields(file) {
  if (declarations.has(file)) return declarations.get(file);
  let result = null;
  if (existsSync(file)) {
    const text = readFileSync(file, "utf8");
    const imports = new Map();
    for (const [, names, from] of text.matchAll(/^import \{ ([^}]+) \} from "([^"]+)";$/gm)) {
      const target = from.startsWith(".") ? join(dirname(file), from.replace(/\.js$/, ".d.ts"))
        : fileURLToPath(import.meta.resolve(from)).replace(/\.js$/, ".d.ts");
      for (const name of names.split(",")) imports.set(name.trim(), target);
    }
    const body = /^export interface \w+(?: extends \w+)? \{\n([\s\S]*?)^\}/m.exec(text);
    if (body) {
      const fields = new Map();
      const lines = body[1].split("\n");
      lines.forEach((line, i) => {
        const field = /^ {4}"([^"]+)"\??: (.*?);?$/.exec(line);
        if (!field) return;
        // A map is declared over the next lines: { [key: string]: T; }
        const entry = field[2] === "{" ? /\[key: string\]: (.*?);?$/.exec(lines[i + 1] ?? "") : null;
        fields.set(field[1], entry ? `map<${entry[1]}>` : field[2]);
      });
      result = { fields, imports };
    }
  }
  declarations.set(file, result);
  return result;
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
