#!/usr/bin/env node
// Installs what the chart's tests need, once, into the git-ignored .local/:
// helm and kubeconform built from the Go module proxy (pinned), and JSON schemas
// for offline validation, generated from the pinned Kubernetes OpenAPI spec and
// the Gateway API / prometheus-operator CRDs, all fetched as Go modules.
// Later calls return at once (a stamp file per tool and per schema set).
// Run directly: `node infra/helm/tools/install-tools.mjs`.
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { hasCommand, runChecked } from '../../local/common.mjs';
import { writeSchemas } from './kube-schemas.mjs';

export const HELM_VERSION = 'v4.3.1';
export const KUBECONFORM_VERSION = 'v0.7.0';
export const KUBERNETES_VERSION = 'v1.34.4';
export const GATEWAY_API_VERSION = 'v1.4.0';
export const PROMETHEUS_OPERATOR_VERSION = 'v0.85.0';

const repoRoot = fileURLToPath(new URL('../../..', import.meta.url));
const readOr = (file) => (existsSync(file) ? readFileSync(file, 'utf8') : '');

function goEnv(binDir) {
  if (!hasCommand('go')) throw new Error('Go is required to build helm and kubeconform: apt-get install golang-go (1.24+)');
  // GOTOOLCHAIN=local: build with the machine's Go, never download another toolchain.
  return { ...process.env, GOTOOLCHAIN: 'local', GOBIN: binDir, GOFLAGS: '-buildvcs=false -modcacherw' };
}

function goInstall({ binDir, name, module, version }) {
  const stamp = join(binDir, `.${name}.version`);
  const binary = join(binDir, name);
  if (readOr(stamp) === version && existsSync(binary)) return binary;
  console.log(`[helm-tools] go install ${module}@${version} (once, a few minutes on 2 cores)…`);
  runChecked('go', ['install', `${module}@${version}`], { env: goEnv(binDir) });
  writeFileSync(stamp, version);
  return binary;
}

/** A Go module's source from the module proxy (the module cache keeps it); returns its directory. */
function goModuleDir(binDir, module, version) {
  const out = runChecked('go', ['mod', 'download', '-json', `${module}@${version}`], { env: goEnv(binDir), cwd: binDir });
  const { Dir, Error: error } = JSON.parse(out);
  if (error || !Dir) throw new Error(`go mod download ${module}@${version}: ${error ?? 'no directory'}`);
  return Dir;
}

function ensureSchemas(binDir, schemaRoot) {
  const versions = [KUBERNETES_VERSION, GATEWAY_API_VERSION, PROMETHEUS_OPERATOR_VERSION].join(' ');
  const dir = join(schemaRoot, KUBERNETES_VERSION);
  // The converter's own source is part of the stamp: changing it regenerates the schemas.
  const stamp = `${versions}\n${readFileSync(fileURLToPath(new URL('./kube-schemas.mjs', import.meta.url)), 'utf8').length}\n`;
  if (readOr(join(dir, '.stamp')) === stamp) return dir;
  console.log(`[helm-tools] generating JSON schemas for Kubernetes ${KUBERNETES_VERSION} + CRDs (once)…`);
  const kubernetes = goModuleDir(binDir, 'k8s.io/kubernetes', KUBERNETES_VERSION);
  const gatewayApi = goModuleDir(binDir, 'sigs.k8s.io/gateway-api', GATEWAY_API_VERSION);
  const promOperator = goModuleDir(binDir, 'github.com/prometheus-operator/prometheus-operator', PROMETHEUS_OPERATOR_VERSION);
  const partial = `${dir}.partial-${process.pid}`;
  rmSync(partial, { recursive: true, force: true });
  mkdirSync(partial, { recursive: true });
  const count = writeSchemas({
    outDir: partial,
    swaggerFile: join(kubernetes, 'api/openapi-spec/swagger.json'),
    crdFiles: [
      join(gatewayApi, 'config/crd/standard/gateway.networking.k8s.io_httproutes.yaml'),
      join(gatewayApi, 'config/crd/standard/gateway.networking.k8s.io_gateways.yaml'),
      join(promOperator, 'example/prometheus-operator-crd/monitoring.coreos.com_servicemonitors.yaml'),
    ],
  });
  writeFileSync(join(partial, '.stamp'), stamp);
  rmSync(dir, { recursive: true, force: true });
  renameSync(partial, dir);
  console.log(`[helm-tools] ${count} schemas in ${dir}`);
  return dir;
}

/** Everything the chart tests need; idempotent and quick once done. */
export function ensureHelmTools({ root = repoRoot } = {}) {
  const binDir = join(root, '.local', 'bin');
  mkdirSync(binDir, { recursive: true });
  return {
    helm: goInstall({ binDir, name: 'helm', module: 'helm.sh/helm/v4/cmd/helm', version: HELM_VERSION }),
    kubeconform: goInstall({ binDir, name: 'kubeconform', module: 'github.com/yannh/kubeconform/cmd/kubeconform', version: KUBECONFORM_VERSION }),
    schemaDir: ensureSchemas(binDir, join(root, '.local', 'kube-schemas')),
  };
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const started = Date.now();
  const tools = ensureHelmTools();
  console.log(`[helm-tools] ready in ${((Date.now() - started) / 1000).toFixed(1)}s:`, tools);
}
