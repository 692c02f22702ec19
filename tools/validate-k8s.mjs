// Validates Kubernetes objects against the Kubernetes API schemas, offline: multi-document YAML on
// stdin (what `kubectl kustomize` prints), each object checked with kubernetes-models (the Kubernetes
// OpenAPI schemas, compiled with ajv, shipped on npm). Prints one JSON line per object
// ({kind, name, errors}) and exits 1 if any object is invalid or of a kind it has no schema for.
//   kubectl kustomize infra/k8s/overlays/production | node tools/validate-k8s.mjs
import { parseAllDocuments } from 'yaml';

const chunks = [];
for await (const chunk of process.stdin) chunks.push(chunk);
let failed = false;
for (const document of parseAllDocuments(Buffer.concat(chunks).toString('utf8'))) {
  if (document.errors.length) {
    console.log(JSON.stringify({ kind: null, name: null, errors: document.errors.map((e) => e.message) }));
    failed = true;
    continue;
  }
  const object = document.toJS();
  if (object === null) continue;
  const { apiVersion = '', kind = '', metadata = {} } = object;
  const result = { apiVersion, kind, name: metadata.name ?? null, errors: [] };
  // apps/v1 → kubernetes-models/apps/v1/Deployment; the core group (v1) → kubernetes-models/v1/Service.
  let Model;
  try {
    Model = (await import(`kubernetes-models/${apiVersion}/${kind}`))[kind];
  } catch {
    Model = undefined;
  }
  if (typeof Model !== 'function') {
    result.errors.push(`no schema for ${apiVersion} ${kind}`);
  } else {
    try {
      new Model(object).validate();
    } catch (error) {
      result.errors.push(...String(error.message).split('\n').filter(Boolean));
    }
  }
  failed ||= result.errors.length > 0;
  console.log(JSON.stringify(result));
}
process.exitCode = failed ? 1 : 0;
