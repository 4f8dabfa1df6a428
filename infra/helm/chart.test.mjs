// The Helm chart, checked offline: helm lint --strict, helm template for the default,
// production-like and trial values, every manifest validated by kubeconform -strict
// against the pinned Kubernetes version's schemas (and the Gateway API / ServiceMonitor
// CRDs), then the properties that matter asserted on the rendered objects.
import { before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseAllDocuments } from 'yaml';
import { ensureHelmTools } from './tools/install-tools.mjs';
import { migrateConfigSpec } from '@chat/db';
import { createTopicsConfigSpec } from '@chat/kafka';
import { loggerConfigSpec } from '@chat/runtime';
import { MAX_FRAME_BYTES } from '@chat/protocol';
import { gatewayConfigSpec } from '../../services/gateway/src/config.ts';
import { messagingConfigSpec } from '../../services/messaging/src/config.ts';
import { presenceConfigSpec } from '../../services/presence/src/config.ts';

const here = fileURLToPath(new URL('.', import.meta.url));
const chart = join(here, 'chat');
const examples = { default: [], production: [join(here, 'examples/values-production.yaml')], trial: [join(here, 'examples/values-trial.yaml')] };
let tools;

before(() => {
  tools = ensureHelmTools();
});

function run(command, args, input) {
  const result = spawnSync(command, args, { encoding: 'utf8', input, maxBuffer: 64 << 20 });
  return { code: result.status, stdout: result.stdout, stderr: result.stderr };
}

const valueArgs = (files = [], sets = {}) => [...files.flatMap((file) => ['-f', file]), ...Object.entries(sets).flatMap(([key, value]) => ['--set', `${key}=${value}`])];

/** `helm template` output as YAML text; throws with helm's message when it refuses. */
function template(files, sets) {
  const result = run(tools.helm, ['template', 'chat', chart, '--namespace', 'chat', ...valueArgs(files, sets)]);
  if (result.code !== 0) throw new Error(result.stderr);
  return result.stdout;
}

function render(files, sets) {
  return parseAllDocuments(template(files, sets))
    .map((document) => document.toJS())
    .filter(Boolean);
}

const find = (objects, kind, name) => objects.find((object) => object.kind === kind && object.metadata.name === name);
const podSpecs = (objects) =>
  objects
    .filter((object) => ['Deployment', 'StatefulSet', 'Job'].includes(object.kind))
    .map((object) => ({ owner: `${object.kind}/${object.metadata.name}`, spec: object.spec.template.spec }));
const envOf = (container) => Object.fromEntries(container.env.map(({ name, value }) => [name, value]));

test('helm lint --strict passes for the default, production and trial values', () => {
  for (const [name, files] of Object.entries(examples)) {
    const result = run(tools.helm, ['lint', '--strict', chart, ...valueArgs(files)]);
    assert.equal(result.code, 0, `${name}: ${result.stdout}${result.stderr}`);
  }
});

test('every manifest of every example is valid against the Kubernetes 1.34 and CRD schemas, strictly', () => {
  const variants = { ...examples, everythingOn: [...examples.production, join(here, 'examples/values-trial.yaml')] };
  for (const [name, files] of Object.entries(variants)) {
    // everythingOn: production's features plus the trial's bundled servers and Ingress, and the HTTPRoute.
    const manifests = template(files, name === 'everythingOn' ? { 'httpRoute.enabled': true, 'gateway.auth.devLogin': false } : {});
    const location = join(tools.schemaDir, '{{ .ResourceKind }}{{ .KindSuffix }}.json');
    const result = run(tools.kubeconform, ['-strict', '-summary', '-output', 'json', '-schema-location', location, '-'], manifests);
    assert.equal(result.code, 0, `${name}: ${result.stdout}${result.stderr}`);
    const { summary } = JSON.parse(result.stdout);
    assert.deepEqual({ invalid: summary.invalid, errors: summary.errors, skipped: summary.skipped }, { invalid: 0, errors: 0, skipped: 0 }, name);
    assert.ok(summary.valid >= 15, `${name}: only ${summary.valid} resources`);
  }
});

test('kubeconform with these schemas rejects a misspelt field, so the validation above has teeth', () => {
  const bad = template([], {}).replace('readOnlyRootFilesystem: true', 'readOnlyRootFileSystem: true');
  const location = join(tools.schemaDir, '{{ .ResourceKind }}{{ .KindSuffix }}.json');
  const result = run(tools.kubeconform, ['-strict', '-schema-location', location, '-'], bad);
  assert.notEqual(result.code, 0);
  assert.match(result.stdout, /additional properties 'readOnlyRootFileSystem' not allowed/);
});

test('the HTTPRoute gives streams no request timeout and the API a bounded one, attached to the configured Gateway, for the public paths only', () => {
  const route = find(render(examples.production), 'HTTPRoute', 'chat');
  assert.deepEqual(route.spec.parentRefs, [{ name: 'public', namespace: 'gateway-system', sectionName: 'https' }]);
  assert.deepEqual(route.spec.hostnames, ['chat.example.com']);
  const [streams, api] = route.spec.rules;
  assert.deepEqual(streams.matches.map(({ path }) => `${path.type} ${path.value}`), ['Exact /ws', 'Exact /sse', 'Exact /poll']);
  assert.equal(streams.timeouts.request, '0s');
  // The public routes only: /metrics, /healthz and /readyz match no rule, so the Gateway does not forward them.
  assert.deepEqual(api.matches.map(({ path }) => `${path.type} ${path.value}`), ['Exact /', 'PathPrefix /assets', 'PathPrefix /api']);
  assert.equal(api.timeouts.request, '30s');
  for (const rule of route.spec.rules) assert.deepEqual(rule.backendRefs, [{ name: 'chat-gateway', port: 80 }]);
});

test('the ingress-nginx Ingress keeps streams open past every heartbeat, unbuffered, with the gateway body limit, and routes only the public paths', () => {
  const ingress = find(render(examples.trial), 'Ingress', 'chat');
  const annotations = ingress.metadata.annotations;
  const longestHeartbeatSeconds = 30; // long poll timeout ≤ 30 s, WebSocket ping 25 s, SSE comment 15 s
  assert.ok(Number(annotations['nginx.ingress.kubernetes.io/proxy-read-timeout']) >= 3600);
  assert.ok(Number(annotations['nginx.ingress.kubernetes.io/proxy-send-timeout']) > longestHeartbeatSeconds);
  assert.equal(annotations['nginx.ingress.kubernetes.io/proxy-buffering'], 'off');
  assert.equal(annotations['nginx.ingress.kubernetes.io/proxy-http-version'], '1.1');
  assert.equal(annotations['nginx.ingress.kubernetes.io/proxy-body-size'], `${MAX_FRAME_BYTES / 1024}k`);
  assert.equal(ingress.spec.rules[0].host, 'chat.localtest.me');
  // The public routes only: /metrics, /healthz and /readyz fall to ingress-nginx's default backend (404).
  const paths = ingress.spec.rules[0].http.paths;
  assert.deepEqual(
    paths.map(({ path, pathType }) => `${pathType} ${path}`),
    ['Exact /', 'Prefix /assets', 'Prefix /api', 'Exact /ws', 'Exact /sse', 'Exact /poll'],
  );
  for (const { backend } of paths) assert.deepEqual(backend, { service: { name: 'chat-gateway', port: { name: 'http' } } });
});

test('the bundled broker keeps the log cleaner dedupe buffer to 16 MiB of its heap, not the default 128 MiB', () => {
  const properties = find(render(examples.trial), 'ConfigMap', 'chat-kafka').data['server.properties'];
  assert.match(properties, /^log\.cleaner\.dedupe\.buffer\.size=16777216$/m);
});

test('every service has a PodDisruptionBudget that selects its pods', () => {
  const objects = render(examples.production);
  for (const service of ['gateway', 'messaging', 'presence']) {
    const pdb = find(objects, 'PodDisruptionBudget', `chat-${service}`);
    assert.ok(pdb, `no PDB for ${service}`);
    const podLabels = find(objects, 'Deployment', `chat-${service}`).spec.template.metadata.labels;
    for (const [key, value] of Object.entries(pdb.spec.selector.matchLabels)) assert.equal(podLabels[key], value, `${service} ${key}`);
  }
});

test('the gateway grace period covers preStop, the drain window it is configured with, and a margin', () => {
  for (const sets of [{}, { 'gateway.drain.windowMs': 45_500, 'gateway.drain.preStopSleepSeconds': 7, 'gateway.drain.shutdownMarginSeconds': 20 }]) {
    const pod = find(render([], sets), 'Deployment', 'chat-gateway').spec.template.spec;
    const [gateway] = pod.containers;
    const drainWindowMs = Number(envOf(gateway).DRAIN_WINDOW_MS);
    const preStopSeconds = Number(gateway.lifecycle.preStop.exec.command[1]);
    assert.equal(drainWindowMs, sets['gateway.drain.windowMs'] ?? 10_000);
    assert.equal(preStopSeconds, sets['gateway.drain.preStopSleepSeconds'] ?? 5);
    assert.ok(pod.terminationGracePeriodSeconds * 1000 > preStopSeconds * 1000 + drainWindowMs, JSON.stringify(sets));
    assert.equal(pod.terminationGracePeriodSeconds, preStopSeconds + Math.ceil(drainWindowMs / 1000) + (sets['gateway.drain.shutdownMarginSeconds'] ?? 15));
  }
});

test("the gateway's readiness probe waits longer than its Postgres check may take, whatever the check is set to", () => {
  const [gateway] = find(render([]), 'Deployment', 'chat-gateway').spec.template.spec.containers;
  assert.equal(gateway.readinessProbe.httpGet.path, '/readyz');
  const problems = [];
  const longest = gatewayConfigSpec.readinessDatabaseTimeoutMs.read({ READINESS_DATABASE_TIMEOUT_MS: '2500' }, problems);
  assert.deepEqual(problems, []);
  gatewayConfigSpec.readinessDatabaseTimeoutMs.read({ READINESS_DATABASE_TIMEOUT_MS: '2501' }, problems);
  assert.equal(problems.length, 1, 'and no longer');
  assert.ok(gateway.readinessProbe.timeoutSeconds * 1000 > longest, `probe timeout ${gateway.readinessProbe.timeoutSeconds} s`);
});

test('no container runs as root, escalates, keeps capabilities or writes its root filesystem', () => {
  for (const files of [examples.production, examples.trial]) {
    const pods = podSpecs(render(files));
    assert.ok(pods.length >= 5);
    for (const { owner, spec } of pods) {
      assert.equal(spec.securityContext.runAsNonRoot, true, owner);
      assert.ok(spec.securityContext.runAsUser > 0, owner);
      assert.equal(spec.securityContext.seccompProfile.type, 'RuntimeDefault', owner);
      for (const container of [...spec.containers, ...(spec.initContainers ?? [])]) {
        const context = container.securityContext;
        assert.equal(context.runAsNonRoot, true, owner);
        assert.ok(context.runAsUser > 0, owner);
        assert.equal(context.allowPrivilegeEscalation, false, owner);
        assert.equal(context.readOnlyRootFilesystem, true, owner);
        assert.deepEqual(context.capabilities.drop, ['ALL'], owner);
        assert.equal(context.seccompProfile.type, 'RuntimeDefault', owner);
      }
    }
  }
});

test('messaging never scales past the partition count, and the chart refuses values that would', () => {
  for (const files of Object.values(examples)) {
    const objects = render(files);
    const hpa = find(objects, 'HorizontalPodAutoscaler', 'chat-messaging');
    const topics = envOf(find(objects, 'Job', 'chat-topics').spec.template.spec.containers[0]);
    if (hpa) assert.ok(hpa.spec.maxReplicas <= Number(topics.TOPIC_PARTITIONS));
    else assert.ok(find(objects, 'Deployment', 'chat-messaging').spec.replicas <= Number(topics.TOPIC_PARTITIONS));
  }
  assert.throws(
    () => template([], { 'kafka.topics.partitions': 4, 'messaging.autoscaling.maxReplicas': 5 }),
    /messaging\.autoscaling\.maxReplicas \(5\) must not exceed kafka\.topics\.partitions \(4\)/,
  );
});

test("every pod's Postgres pool, at the maximum replicas plus a rolling update's surge, fits in max_connections, and the chart refuses values that would not", () => {
  const maxConnections = { default: 100, production: 400, trial: 100 };
  for (const [name, files] of Object.entries(examples)) {
    const objects = render(files);
    let needed = 10; // postgres.reservedConnections
    for (const service of ['gateway', 'messaging']) {
      const deployment = find(objects, 'Deployment', `chat-${service}`);
      const hpa = find(objects, 'HorizontalPodAutoscaler', `chat-${service}`);
      const replicas = hpa ? hpa.spec.maxReplicas : deployment.spec.replicas;
      // Both Deployments roll with maxSurge 25 % (the gateway's stated, messaging's Kubernetes' default), rounded up.
      assert.equal(deployment.spec.strategy?.rollingUpdate?.maxSurge ?? '25%', '25%', `${name}: ${service}`);
      needed += (replicas + Math.ceil(replicas / 4)) * Number(envOf(deployment.spec.template.spec.containers[0]).DATABASE_POOL_MAX);
    }
    assert.ok(needed <= maxConnections[name], `${name}: ${needed} connections > ${maxConnections[name]}`);
  }
  const bundled = find(render(examples.trial), 'StatefulSet', 'chat-postgres').spec.template.spec.containers[0];
  assert.deepEqual(bundled.args, ['-c', 'max_connections=100'], 'the bundled server has the max_connections the budget counts');

  // The defaults: gateway 13 pods × 5 + messaging 8 pods × 3 + 10 reserved = 99.
  assert.doesNotThrow(() => template([], { 'postgres.reservedConnections': 11 }), 'exactly 100 fits');
  assert.throws(
    () => template([], { 'postgres.reservedConnections': 12 }),
    /the Postgres connection budget is exceeded: gateway 13 pods × 5 \+ messaging 8 pods × 3 \+ 12 reserved = 101 connections > postgres\.maxConnections \(100\)/,
  );
  assert.throws(
    () => template([], { 'gateway.autoscaling.maxReplicas': 20, 'messaging.databasePoolMax': 10 }),
    /gateway 25 pods × 5 \+ messaging 8 pods × 10 \+ 10 reserved = 215 connections > postgres\.maxConnections \(100\)\. Pods are the autoscaler's maxReplicas/,
  );
  assert.doesNotThrow(() => template([], { 'gateway.autoscaling.maxReplicas': 20, 'messaging.databasePoolMax': 10, 'postgres.maxConnections': 215 }));
  // Without autoscaling, the fixed replica count is what counts.
  assert.throws(
    () => template(examples.trial, { 'gateway.replicas': 20, 'gateway.databasePoolMax': 4 }),
    /gateway 25 pods × 4 \+ messaging 2 pods × 3 \+ 10 reserved = 116 connections/,
  );
});

test('values.schema.json rejects bad values with messages that name them', () => {
  assert.throws(() => template([], { 'gateway.drain.windowMs': -1 }), /at '\/gateway\/drain\/windowMs': minimum: got -1, want 0/);
  assert.throws(() => template([], { 'gateway.auth.algorithm': 'ES256' }), /at '\/gateway\/auth\/algorithm': value must be one of 'HS256', 'RS256'/);
  assert.throws(() => template([], { 'gateway.drian.windowMs': 1 }), /at '\/gateway': additional properties 'drian' not allowed/);
  assert.throws(() => template([], { 'gateway.config.sseHeartbeatMs': 20_000 }), /sseHeartbeatMs': maximum: got 20,?000, want 15,?000/);
  assert.throws(() => template([], { runAsUser: 0 }), /at '\/runAsUser': minimum: got 0, want 1/);
  assert.throws(() => template([], { 'kafka.topics.minInsyncReplicas': 3, 'kafka.topics.replicationFactor': 2 }), /minInsyncReplicas \(3\) is above replicationFactor \(2\)/);
});

test('setup Jobs are idempotent hooks: before install with external infra, after it with bundled servers', () => {
  const production = render(examples.production);
  for (const name of ['chat-migrate', 'chat-topics']) {
    const annotations = find(production, 'Job', name).metadata.annotations;
    assert.equal(annotations['helm.sh/hook'], 'pre-install,pre-upgrade');
    assert.equal(annotations['helm.sh/hook-delete-policy'], 'before-hook-creation,hook-succeeded');
    assert.equal(find(render(examples.trial), 'Job', name).metadata.annotations['helm.sh/hook'], 'post-install,pre-upgrade');
  }
  const topics = envOf(find(production, 'Job', 'chat-topics').spec.template.spec.containers[0]);
  assert.deepEqual([topics.TOPIC_PARTITIONS, topics.TOPIC_REPLICATION_FACTOR, topics.TOPIC_MIN_INSYNC_REPLICAS], ['24', '3', '2']);
  assert.equal(topics.TOPIC_MESSAGES_RETENTION_MS, '604800000');
  assert.equal(topics.TOPIC_DLQ_RETENTION_MS, '2592000000', 'the dead letters kept 30 days');
  const trialTopics = envOf(find(render(examples.trial), 'Job', 'chat-topics').spec.template.spec.containers[0]);
  assert.deepEqual([trialTopics.TOPIC_REPLICATION_FACTOR, trialTopics.TOPIC_MIN_INSYNC_REPLICAS, trialTopics.KAFKA_BROKERS], ['1', '1', 'chat-kafka.chat.svc:9092']);
});

test('every environment variable the chart sets is one the services read', () => {
  // Each container's own config definitions, the same that print README's environment tables.
  const reads = {
    'Deployment/chat-gateway': gatewayConfigSpec,
    'Deployment/chat-messaging': messagingConfigSpec,
    'Deployment/chat-presence': presenceConfigSpec,
    'Job/chat-topics': createTopicsConfigSpec,
    'Job/chat-migrate': migrateConfigSpec,
  };
  // Read by libraries rather than our config: kafkajs and the OpenTelemetry SDK.
  const libraryVariables = new Set(['KAFKAJS_NO_PARTITIONER_WARNING', 'OTEL_EXPORTER_OTLP_ENDPOINT', 'OTEL_SERVICE_NAME']);
  for (const { owner, spec } of podSpecs(render(examples.production))) {
    if (owner.startsWith('StatefulSet')) continue; // the bundled Kafka and Postgres, configured as their images say
    assert.ok(reads[owner], `${owner}: which config does it read?`);
    const known = new Set(Object.values({ ...loggerConfigSpec, ...reads[owner] }).map((field) => field.info.env));
    for (const name of spec.containers.flatMap((container) => container.env?.map((variable) => variable.name) ?? [])) {
      assert.ok(known.has(name) || libraryVariables.has(name), `${owner} sets ${name}, which it does not read`);
    }
  }
});

test('by default the gateway has no development login, images carry the app version, and secrets come from Secrets', () => {
  const objects = render([]);
  const gateway = find(objects, 'Deployment', 'chat-gateway').spec.template.spec.containers[0];
  assert.equal(envOf(gateway).DEV_LOGIN, 'false');
  assert.equal(gateway.image, 'ghcr.io/chat-platform/chat-gateway:0.2.0');
  const secretRefs = Object.fromEntries(gateway.env.filter((variable) => variable.valueFrom?.secretKeyRef).map(({ name, valueFrom }) => [name, valueFrom.secretKeyRef]));
  assert.deepEqual(secretRefs.JWT_SECRET, { name: 'chat-gateway-auth', key: 'jwtSecret' });
  assert.deepEqual(secretRefs.DATABASE_URL, { name: 'chat-database', key: 'url' });
  assert.ok(find(objects, 'Secret', 'chat-gateway-auth').stringData.jwtSecret.length >= 32);
  assert.equal(envOf(gateway).DEV_LOGIN_ON_NETWORK, undefined, 'the gateway refuses the development login off loopback');
});

test('the trial says its development login is meant to serve the network; RS256 needs an audience and an https JWKS', () => {
  const trial = find(render(examples.trial), 'Deployment', 'chat-gateway').spec.template.spec.containers[0];
  assert.equal(envOf(trial).DEV_LOGIN, 'true');
  assert.equal(envOf(trial).DEV_LOGIN_ON_NETWORK, 'true');
  const rs256 = { 'gateway.auth.algorithm': 'RS256', 'gateway.auth.jwksUrl': 'https://id.example.com/jwks' };
  assert.throws(() => template([], rs256), /gateway\.auth\.audience is required with RS256/);
  assert.throws(() => template([], { ...rs256, 'gateway.auth.audience': 'chat', 'gateway.auth.jwksUrl': 'http://id.example.com/jwks' }), /at '\/gateway\/auth\/jwksUrl'/);
  const production = find(render(examples.production), 'Deployment', 'chat-gateway').spec.template.spec.containers[0];
  assert.equal(envOf(production).JWT_AUDIENCE, 'chat');
});

test('HS256 rotation: the previous secret goes into the Secret and reaches the gateway, optional for an existing Secret', () => {
  const previous = 'p'.repeat(40);
  const objects = render([], { 'gateway.auth.previousSecret': previous });
  assert.equal(find(objects, 'Secret', 'chat-gateway-auth').stringData.jwtPreviousSecret, previous);
  const gateway = find(objects, 'Deployment', 'chat-gateway').spec.template.spec.containers[0];
  const ref = gateway.env.find((variable) => variable.name === 'JWT_PREVIOUS_SECRET').valueFrom.secretKeyRef;
  assert.deepEqual(ref, { name: 'chat-gateway-auth', key: 'jwtPreviousSecret', optional: true });
  assert.equal(find(render([]), 'Secret', 'chat-gateway-auth').stringData.jwtPreviousSecret, undefined);
  assert.throws(() => template([], { 'gateway.auth.previousSecret': 'short' }), /at '\/gateway\/auth\/previousSecret'/);
});

test('NetworkPolicies: the gateway only from the ingress controllers, the scraper and the release; the workers only from the scraper; the bundled servers only from the release', () => {
  const objects = render(examples.trial);
  const policy = (name) => find(objects, 'NetworkPolicy', name);
  const gateway = policy('chat-gateway');
  assert.deepEqual(gateway.spec.podSelector.matchLabels, find(objects, 'Deployment', 'chat-gateway').spec.selector.matchLabels);
  assert.deepEqual(gateway.spec.policyTypes, ['Ingress']);
  const [rule] = gateway.spec.ingress;
  assert.deepEqual(rule.ports, [{ port: 8080, protocol: 'TCP' }]);
  const namespaces = rule.from.map((peer) => peer.namespaceSelector?.matchLabels['kubernetes.io/metadata.name']).filter(Boolean);
  assert.deepEqual(namespaces, ['ingress-nginx', 'gateway-system', 'monitoring']);
  assert.deepEqual(rule.from.at(-1), { podSelector: { matchLabels: { 'app.kubernetes.io/instance': 'chat' } } });
  for (const worker of ['messaging', 'presence']) {
    const [only] = policy(`chat-${worker}`).spec.ingress;
    assert.deepEqual(only.from, [{ namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'monitoring' } } }], worker);
  }
  for (const [server, port] of [['kafka', 9092], ['postgres', 5432]]) {
    const bundled = policy(`chat-${server}`);
    assert.deepEqual(bundled.spec.podSelector.matchLabels['app.kubernetes.io/component'], server);
    assert.deepEqual(bundled.spec.ingress, [{ from: [{ podSelector: { matchLabels: { 'app.kubernetes.io/instance': 'chat' } } }], ports: [{ port, protocol: 'TCP' }] }]);
  }
  // Without bundled servers, no policy for them; off, none at all.
  const production = render(examples.production);
  assert.equal(find(production, 'NetworkPolicy', 'chat-kafka'), undefined);
  assert.equal(render([], { 'networkPolicy.enabled': false }).filter((object) => object.kind === 'NetworkPolicy').length, 0);
});

test('the gateway believes X-Forwarded-For from the configured proxies only, and TLS is on by default with a certificate Secret named for the release', () => {
  const gateway = find(render([]), 'Deployment', 'chat-gateway').spec.template.spec.containers[0];
  assert.equal(envOf(gateway).TRUSTED_PROXIES, '10.0.0.0/8,172.16.0.0/12,192.168.0.0/16,fc00::/7');
  const narrowed = find(render([], { 'gateway.config.trustedProxies': '{10.244.0.0/16}' }), 'Deployment', 'chat-gateway').spec.template.spec.containers[0];
  assert.equal(envOf(narrowed).TRUSTED_PROXIES, '10.244.0.0/16');
  const ingress = find(render([], { 'ingress.enabled': true, 'ingress.tls.clusterIssuer': 'letsencrypt' }), 'Ingress', 'chat');
  assert.deepEqual(ingress.spec.tls, [{ hosts: ['chat.example.com'], secretName: 'chat-tls' }]);
  assert.equal(ingress.metadata.annotations['cert-manager.io/cluster-issuer'], 'letsencrypt');
  assert.equal(find(render(examples.trial), 'Ingress', 'chat').spec.tls, undefined, 'the trial on localtest.me is plain http');
  assert.throws(() => template([], { 'gateway.config.trustedProxies': '{not an address}' }), /trustedProxies/);
});
