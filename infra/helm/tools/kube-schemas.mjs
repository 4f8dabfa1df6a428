// Converts the Kubernetes OpenAPI v2 spec and CRD YAMLs into one standalone JSON
// schema per kind, named as kubeconform looks them up with
// `-schema-location '<dir>/{{ .ResourceKind }}{{ .KindSuffix }}.json'`
// (e.g. deployment-apps-v1.json, httproute-gateway-v1.json).
// Strict, like openapi2jsonschema --strict: every object that lists its
// properties gets `additionalProperties: false`, so a misspelt field fails.
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseAllDocuments } from 'yaml';

const fileName = (kind, group, version) =>
  `${kind.toLowerCase()}${group ? `-${group.split('.')[0].toLowerCase()}` : ''}-${version.toLowerCase()}.json`;

/** Rewrites one schema node (recursively) for JSON Schema validation of manifests. */
function strictify(node) {
  if (Array.isArray(node)) return node.map(strictify);
  if (!node || typeof node !== 'object') return node;
  const out = {};
  for (const [key, value] of Object.entries(node)) {
    // Property names are data, not keywords: keep them, convert their schemas.
    if (key === 'properties' || key === 'definitions' || key === 'patternProperties') {
      out[key] = Object.fromEntries(Object.entries(value).map(([name, schema]) => [name, strictify(schema)]));
    } else out[key] = strictify(value);
  }
  // Swagger's int-or-string and CRDs' x-kubernetes-int-or-string both take either type.
  if (out.format === 'int-or-string' || out['x-kubernetes-int-or-string']) {
    delete out.type;
    delete out.format;
    if (!out.anyOf) out.anyOf = [{ type: 'integer' }, { type: 'string' }];
  }
  const open = out['x-kubernetes-preserve-unknown-fields'] === true;
  if (out.properties && out.additionalProperties === undefined && !open) out.additionalProperties = false;
  return out;
}

/** Names of the definitions `schema` reaches through $ref, transitively. */
function reachable(definitions, schema, found = new Set()) {
  const visit = (node) => {
    if (Array.isArray(node)) return node.forEach(visit);
    if (!node || typeof node !== 'object') return;
    const ref = typeof node.$ref === 'string' && node.$ref.startsWith('#/definitions/') ? node.$ref.slice(14) : null;
    if (ref && !found.has(ref)) {
      found.add(ref);
      visit(definitions[ref]);
    }
    Object.values(node).forEach(visit);
  };
  visit(schema);
  return found;
}

function kubernetesSchemas(swaggerFile) {
  const { definitions: raw } = JSON.parse(readFileSync(swaggerFile, 'utf8'));
  const definitions = {};
  for (const [name, schema] of Object.entries(raw)) definitions[name] = strictify(schema);
  // A Quantity ("500m", "1Gi") is a string in the spec, but the API server takes plain numbers too.
  definitions['io.k8s.apimachinery.pkg.api.resource.Quantity'] = { anyOf: [{ type: 'string' }, { type: 'number' }] };
  const schemas = [];
  for (const [name, schema] of Object.entries(definitions)) {
    for (const { group, version, kind } of raw[name]['x-kubernetes-group-version-kind'] ?? []) {
      // Lists and the meta kinds every group version repeats (DeleteOptions, WatchEvent) are no manifests.
      if (kind.endsWith('List') || name.startsWith('io.k8s.apimachinery.')) continue;
      const used = [...reachable(definitions, schema)].sort();
      schemas.push({ file: fileName(kind, group, version), schema: { ...schema, definitions: Object.fromEntries(used.map((ref) => [ref, definitions[ref]])) } });
    }
  }
  return schemas;
}

function crdSchemas(crdFile) {
  const schemas = [];
  for (const document of parseAllDocuments(readFileSync(crdFile, 'utf8'))) {
    const crd = document.toJS();
    if (crd?.kind !== 'CustomResourceDefinition') continue;
    for (const version of crd.spec.versions) {
      const schema = strictify(version.schema.openAPIV3Schema);
      // The API server fills metadata's schema in for every custom resource; name the usual fields.
      schema.properties.metadata = { $ref: '#/definitions/ObjectMeta' };
      schema.definitions = { ObjectMeta: OBJECT_META };
      schemas.push({ file: fileName(crd.spec.names.kind, crd.spec.group, version.name), schema });
    }
  }
  return schemas;
}

const stringMap = { type: 'object', additionalProperties: { type: 'string' } };
const OBJECT_META = {
  type: 'object',
  properties: { name: { type: 'string' }, namespace: { type: 'string' }, labels: stringMap, annotations: stringMap },
  additionalProperties: true,
};

/** Writes every schema into `outDir`; returns how many. */
export function writeSchemas({ outDir, swaggerFile, crdFiles }) {
  const all = [...kubernetesSchemas(swaggerFile), ...crdFiles.flatMap(crdSchemas)];
  for (const { file, schema } of all) writeFileSync(join(outDir, file), JSON.stringify(schema));
  return all.length;
}
