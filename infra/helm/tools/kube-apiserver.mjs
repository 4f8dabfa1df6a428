// A real kube-apiserver with etcd on loopback, for installing the chart against an API
// server (npm run test:helm-apiserver). kube-apiserver is built from the Go module proxy's
// k8s.io/kubernetes source: that module's go.mod points its k8s.io/* staging modules at
// ./staging, which module zips leave out, so a small module of our own requires it and
// replaces each staging module with its published v0.x twin. etcd is Debian's etcd-server.
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, writeFileSync } from 'node:fs';
import { request } from 'node:https';
import { join } from 'node:path';
import { aptInstall, freePort, hasCommand, runChecked, spawnServer, tail, waitFor } from '../../local/common.mjs';
import { KUBERNETES_VERSION } from './install-tools.mjs';

const STAGING_VERSION = KUBERNETES_VERSION.replace(/^v1\./, 'v0.');

/** Builds .local/bin/kube-apiserver once (many minutes on 2 cores); later calls return at once. */
export function ensureKubeApiserver(root) {
  const binary = join(root, '.local', 'bin', 'kube-apiserver');
  const stamp = `${binary}.version`;
  // Without these the server reports v0.0.0-master, which fails every chart's kubeVersion check.
  const [major, minor] = KUBERNETES_VERSION.slice(1).split('.');
  const version = 'k8s.io/component-base/version';
  const ldflags = `-s -w -X ${version}.gitVersion=${KUBERNETES_VERSION} -X ${version}.gitMajor=${major} -X ${version}.gitMinor=${minor}`;
  if (existsSync(binary) && existsSync(stamp) && readFileSync(stamp, 'utf8') === ldflags) return binary;
  const env = { ...process.env, GOTOOLCHAIN: 'local', GOFLAGS: '-mod=mod -buildvcs=false -modcacherw' };
  const moduleDir = join(root, '.local', 'kube-apiserver-build');
  mkdirSync(moduleDir, { recursive: true });
  const kubernetesDir = JSON.parse(runChecked('go', ['mod', 'download', '-json', `k8s.io/kubernetes@${KUBERNETES_VERSION}`], { env, cwd: moduleDir })).Dir;
  const staging = [...readFileSync(join(kubernetesDir, 'go.mod'), 'utf8').matchAll(/^\s*(k8s\.io\/[\w.-]+) => \.\/staging\//gm)].map((match) => match[1]);
  writeFileSync(
    join(moduleDir, 'go.mod'),
    `module local/kubeapiserver\n\ngo 1.24\n\nrequire k8s.io/kubernetes ${KUBERNETES_VERSION}\n\nreplace (\n${staging.map((name) => `\t${name} => ${name} ${STAGING_VERSION}\n`).join('')})\n`,
  );
  console.log(`[kube-apiserver] building k8s.io/kubernetes/cmd/kube-apiserver ${KUBERNETES_VERSION} (once)…`);
  runChecked('go', ['build', '-ldflags', ldflags, '-o', binary, 'k8s.io/kubernetes/cmd/kube-apiserver'], { env, cwd: moduleDir });
  writeFileSync(stamp, ldflags);
  return binary;
}

/** A request to the API server with the admin token; resolves { status, body }. */
function apiRequest(server, method, path, body) {
  return new Promise((resolve, reject) => {
    const req = request(
      `${server.url}${path}`,
      {
        method,
        rejectUnauthorized: false, // the server's self-signed certificate, on loopback
        headers: { authorization: `Bearer ${server.token}`, 'content-type': 'application/json' },
      },
      (res) => {
        let text = '';
        res.on('data', (chunk) => (text += chunk));
        res.on('end', () => {
          // Health endpoints answer plain text, the API JSON.
          let body = text;
          try {
            body = text ? JSON.parse(text) : undefined;
          } catch {
            // keep the text
          }
          resolve({ status: res.statusCode, body });
        });
      },
    );
    req.on('error', reject);
    req.end(body === undefined ? undefined : JSON.stringify(body));
  });
}

/**
 * Starts etcd and kube-apiserver on free loopback ports under `dir` and waits for /readyz.
 * No controller-manager or kubelet: objects are stored and validated, nothing runs.
 */
export async function startKubeApiserver({ root, dir }) {
  if (!hasCommand('etcd')) aptInstall(['etcd-server'], 'etcd is needed by kube-apiserver');
  const apiserver = ensureKubeApiserver(root);
  mkdirSync(dir, { recursive: true });
  const [etcdPort, peerPort, apiPort] = [await freePort(), await freePort(), await freePort()];
  const etcdLog = join(dir, 'etcd.log');
  const etcdFd = openSync(etcdLog, 'a');
  const etcd = spawnServer('etcd', [
    '--name', 'chart-test', '--data-dir', join(dir, 'etcd'),
    '--listen-client-urls', `http://127.0.0.1:${etcdPort}`, '--advertise-client-urls', `http://127.0.0.1:${etcdPort}`,
    '--listen-peer-urls', `http://127.0.0.1:${peerPort}`, '--initial-advertise-peer-urls', `http://127.0.0.1:${peerPort}`,
    '--initial-cluster', `chart-test=http://127.0.0.1:${peerPort}`,
  ], { logFd: etcdFd, env: process.env });
  closeSync(etcdFd);

  const token = randomBytes(16).toString('hex');
  writeFileSync(join(dir, 'tokens.csv'), `${token},admin,admin,system:masters\n`);
  const { publicKey, privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  writeFileSync(join(dir, 'sa.pub'), publicKey.export({ type: 'spki', format: 'pem' }));
  writeFileSync(join(dir, 'sa.key'), privateKey.export({ type: 'pkcs8', format: 'pem' }));
  const apiLog = join(dir, 'kube-apiserver.log');
  const apiFd = openSync(apiLog, 'a');
  const api = spawnServer(apiserver, [
    `--etcd-servers=http://127.0.0.1:${etcdPort}`,
    '--bind-address=127.0.0.1', '--advertise-address=127.0.0.1', `--secure-port=${apiPort}`,
    `--cert-dir=${join(dir, 'certs')}`,
    `--token-auth-file=${join(dir, 'tokens.csv')}`, '--authorization-mode=RBAC',
    '--service-account-issuer=https://kubernetes.default.svc',
    `--service-account-key-file=${join(dir, 'sa.pub')}`, `--service-account-signing-key-file=${join(dir, 'sa.key')}`,
    // Allocation ranges only: no traffic goes there, nothing runs pods.
    '--service-cluster-ip-range=10.0.0.0/24',
    // No controller-manager creates the default ServiceAccount; the chart's pods do not use one anyway.
    '--disable-admission-plugins=ServiceAccount',
  ], { logFd: apiFd, env: process.env });
  closeSync(apiFd);

  const server = { url: `https://127.0.0.1:${apiPort}`, token };
  const stop = async () => {
    await api.stop();
    await etcd.stop();
  };
  try {
    await waitFor('kube-apiserver', async () => (await apiRequest(server, 'GET', '/readyz')).status === 200, {
      timeoutMs: 120_000,
      isDead: () => (api.isDead() && `${api.isDead()}\n${tail(apiLog)}`) || (etcd.isDead() && `etcd ${etcd.isDead()}\n${tail(etcdLog)}`),
    });
  } catch (error) {
    await stop();
    throw error;
  }
  const kubeconfig = join(dir, 'kubeconfig');
  writeFileSync(
    kubeconfig,
    JSON.stringify({
      apiVersion: 'v1',
      kind: 'Config',
      clusters: [{ name: 'local', cluster: { server: server.url, 'insecure-skip-tls-verify': true } }],
      users: [{ name: 'admin', user: { token } }],
      contexts: [{ name: 'local', context: { cluster: 'local', user: 'admin' } }],
      'current-context': 'local',
    }),
  );
  return { ...server, kubeconfig, request: (method, path, body) => apiRequest(server, method, path, body), stop };
}
