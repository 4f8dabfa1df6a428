import js from '@eslint/js';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['**/node_modules/**', '**/dist/**', '.local/**', 'web/dist/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: {
      globals: { process: 'readonly', console: 'readonly', setTimeout: 'readonly', clearTimeout: 'readonly', setInterval: 'readonly', clearInterval: 'readonly', URL: 'readonly', Buffer: 'readonly', AbortController: 'readonly', fetch: 'readonly' },
    },
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/consistent-type-imports': 'error',
      'no-console': ['error', { allow: ['error', 'warn'] }],
    },
  },
  {
    // Type-aware: a promise nobody awaits or handles (a stream start, a fan-out, a timer's work) is a crash or a
    // silent loss waiting for its first rejection; packages/runtime's process policy is only the net below this.
    files: ['**/*.ts', '**/*.tsx', '**/*.mjs'],
    languageOptions: {
      parserOptions: {
        // k6's shared helpers belong to loadtest/scenarios' project, which the nearest tsconfig does not name.
        projectService: { allowDefaultProject: ['loadtest/lib/chat-load.ts', 'loadtest/lib/k6-sse.d.ts'] },
        tsconfigRootDir: import.meta.dirname,
      },
    },
    rules: {
      '@typescript-eslint/no-floating-promises': [
        'error',
        // node:test runs and reports the promises of test() and describe() itself.
        // `void` is no way out: each promise handles its rejection where it is made.
        { ignoreVoid: false, allowForKnownSafeCalls: [{ from: 'package', package: 'node:test', name: ['test', 'it', 'describe', 'suite'] }] },
      ],
      '@typescript-eslint/no-misused-promises': 'error',
    },
  },
  {
    // What runs in the browser takes values from the protocol's own modules (e.g. '@chat/protocol/disconnect'): its
    // index brings TypeBox and the compiled frame validators, which more than doubled the web app's bundle.
    files: ['packages/client/src/**', 'web/src/**'],
    rules: {
      '@typescript-eslint/no-restricted-imports': [
        'error',
        { paths: [{ name: '@chat/protocol', allowTypeImports: true, message: "Import values from a module of the package, e.g. '@chat/protocol/disconnect'." }] },
      ],
    },
  },
  {
    files: ['**/*.mjs', 'scripts/**', 'infra/**', 'loadtest/**', '**/bench/**', 'e2e/faults/chaos.ts', 'e2e/faults/storm.ts'],
    rules: { 'no-console': 'off' },
  },
);
