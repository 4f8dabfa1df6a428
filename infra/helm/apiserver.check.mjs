// `npm run test:helm-apiserver`: the chart installed into a real kube-apiserver (with etcd)
// on loopback. The API server validates every object (built-in kinds and the Gateway API /
// ServiceMonitor CRDs), runs admission and stores them; with no controller-manager or
// kubelet nothing runs, so hook Jobs are checked by a server-side dry run and the real
// installs pass --no-hooks. Not part of `npm test`: the first run builds kube-apiserver.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseAllDocuments } from 'yaml';
import { ensureHelmTools } from './tools/install-tools.mjs';
import { startKubeApiserver } from './tools/kube-apiserver.mjs';

const root = fileURLToPath(new URL('../..', import.meta.url));
const here = fileURLToPath(new URL('.', import.meta.url));
const chart = join(here, 'chat');
const production = join(here, 'examples/values-production.yaml');
const trial = join(here, 'examples/values-trial.yaml');
const dir = join(root, '.local', 'helm-apiserver', String(process.pid));
let tools;
let api;

before(async () => {
  tools = ensureHelmTools({ root });
  api = await startKubeApiserver({ root, dir });
  await installCrds();
});
after(async () => {
  await api?.stop();
  rmSync(dir, { recursive: true, force: true });
});

function helm(...args) {
  const result = spawnSync(tools.helm, args, { encoding: 'utf8', env: { ...process.env, KUBECONFIG: api.kubeconfig }, maxBuffer: 64 << 20 });
  return { code: result.status, output: `${result.stdout}${result.stderr}` };
}

/** The Gateway API and prometheus-operator CRDs the chart's objects need, from the Go modules install-tools fetched. */
async function installCrds() {
  const modules = join(process.env.GOMODCACHE || spawnSync('go', ['env', 'GOMODCACHE'], { encoding: 'utf8' }).stdout.trim());
  const { GATEWAY_API_VERSION, PROMETHEUS_OPERATOR_VERSION } = await import('./tools/install-tools.mjs');
  const files = [
    join(modules, `sigs.k8s.io/gateway-api@${GATEWAY_API_VERSION}/config/crd/standard/gateway.networking.k8s.io_httproutes.yaml`),
    join(modules, `github.com/prometheus-operator/prometheus-operator@${PROMETHEUS_OPERATOR_VERSION}/example/prometheus-operator-crd/monitoring.coreos.com_servicemonitors.yaml`),
  ];
  for (const file of files) {
    for (const document of parseAllDocuments(readFileSync(file, 'utf8'))) {
      const crd = document.toJS();
      if (crd?.kind !== 'CustomResourceDefinition') continue;
      const created = await api.request('POST', '/apis/apiextensions.k8s.io/v1/customresourcedefinitions', crd);
      assert.ok([201, 409].includes(created.status), JSON.stringify(created.body));
    }
  }
  for (const path of ['/apis/gateway.networking.k8s.io/v1/httproutes', '/apis/monitoring.coreos.com/v1/servicemonitors']) {
    for (const deadline = Date.now() + 30_000; (await api.request('GET', path)).status !== 200; ) {
      assert.ok(Date.now() < deadline, `${path} not served`);
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
  }
}

const get = async (path) => {
  const { status, body } = await api.request('GET', path);
  assert.equal(status, 200, `${path}: ${JSON.stringify(body)}`);
  return body;
};

test('a server-side dry run of the production install, hooks included, is accepted by the API server', () => {
  const result = helm('install', 'chat', chart, '-n', 'dry', '--create-namespace', '--dry-run=server', '-f', production);
  assert.equal(result.code, 0, result.output);
  assert.match(result.output, /# Source: chat\/templates\/setup-jobs\.yaml/);
  assert.match(result.output, /kind: HTTPRoute/);
  assert.match(result.output, /kind: ServiceMonitor/);
});

test('the production install stores every object as rendered: routes, autoscalers, budgets and drain timing', async () => {
  const result = helm('install', 'chat', chart, '-n', 'prod', '--create-namespace', '--no-hooks', '-f', production);
  assert.equal(result.code, 0, result.output);
  const gateway = await get('/apis/apps/v1/namespaces/prod/deployments/chat-gateway');
  assert.equal(gateway.spec.template.spec.terminationGracePeriodSeconds, 10 + 20 + 15);
  assert.equal(gateway.spec.template.spec.securityContext.runAsNonRoot, true);
  const route = await get('/apis/gateway.networking.k8s.io/v1/namespaces/prod/httproutes/chat');
  assert.equal(route.spec.rules[0].timeouts.request, '0s');
  const hpa = await get('/apis/autoscaling/v2/namespaces/prod/horizontalpodautoscalers/chat-messaging');
  assert.equal(hpa.spec.maxReplicas, 24);
  for (const service of ['gateway', 'messaging', 'presence']) await get(`/apis/policy/v1/namespaces/prod/poddisruptionbudgets/chat-${service}`);
  await get('/apis/monitoring.coreos.com/v1/namespaces/prod/servicemonitors/chat');
});

test('a trial install keeps its generated Postgres password and JWT secret across an upgrade, and uninstalls cleanly', async () => {
  assert.equal(helm('install', 'chat', chart, '-n', 'trial', '--create-namespace', '--no-hooks', '-f', trial).code, 0);
  const secret = async (name) => (await get(`/api/v1/namespaces/trial/secrets/${name}`)).data;
  const before = { postgres: await secret('chat-postgres'), auth: await secret('chat-gateway-auth') };
  await get('/apis/apps/v1/namespaces/trial/statefulsets/chat-kafka');

  const upgraded = helm('upgrade', 'chat', chart, '-n', 'trial', '--no-hooks', '-f', trial, '--set', 'logLevel=debug');
  assert.equal(upgraded.code, 0, upgraded.output);
  assert.deepEqual(await secret('chat-postgres'), before.postgres);
  assert.deepEqual(await secret('chat-gateway-auth'), before.auth);

  const uninstalled = helm('uninstall', 'chat', '-n', 'trial');
  assert.equal(uninstalled.code, 0, uninstalled.output);
  assert.equal((await api.request('GET', '/apis/apps/v1/namespaces/trial/deployments/chat-gateway')).status, 404);
});
