// @ts-check
// Lint with type information: promises nobody awaits and promises handed to callbacks that ignore
// them are errors everywhere; workflow code additionally gets Temporal's determinism rules.
import { builtinModules } from 'node:module';
import { fileURLToPath } from 'node:url';
import js from '@eslint/js';
import { defineConfig, globalIgnores } from 'eslint/config';
import globals from 'globals';
import tseslint from 'typescript-eslint';

// Everything the worker bundles into the workflow sandbox. A project module imported by value from
// workflow code must be listed here so that its own code is held to the same rules.
const workflowBundle = ['workflows/**/*.ts', 'src/sync/schedule.ts', 'src/sync/retry.ts', 'src/sync/spread.ts'];

const nodeBuiltins = builtinModules.filter((name) => !name.startsWith('_'));

export default defineConfig(
  globalIgnores(['node_modules/', 'dist/', 'data/', 'coverage/', 'tmp/', 'test/browser/artifacts/', 'bench/results/']),
  js.configs.recommended,
  tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: {
      parserOptions: {
        projectService: {
          // The JavaScript files are outside tsconfig.json; they get a default program.
          allowDefaultProject: [
            'eslint.config.js',
            'scripts/*.mjs',
            'test/fixtures/*.mjs',
            'src/api/pages/assets/app.js',
            'src/temporal/failure-converter.cjs',
          ],
        },
        tsconfigRootDir: fileURLToPath(new URL('.', import.meta.url)),
      },
    },
    linterOptions: { reportUnusedDisableDirectives: 'error' },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-misused-promises': 'error',
      '@typescript-eslint/no-unused-vars': [
        'error',
        { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrorsIgnorePattern: '^_' },
      ],
      // Off: async methods that satisfy a Promise-returning interface with synchronous work (the
      // SQLite store, test doubles) are intended; rewriting them would turn their throws synchronous.
      '@typescript-eslint/require-await': 'off',
      // Node declares URLSearchParams itself, so the rule's default allowance (the DOM's) misses it.
      '@typescript-eslint/restrict-template-expressions': [
        'error',
        {
          allow: [
            { from: 'lib', name: ['Error', 'URL', 'URLSearchParams'] },
            { from: 'package', package: '@types/node', name: ['URL', 'URLSearchParams'] },
          ],
        },
      ],
    },
  },
  { files: ['eslint.config.js', 'scripts/*.mjs', 'test/fixtures/*.mjs'], languageOptions: { globals: globals.node } },
  {
    // Off in tests and benchmarks: they read JSON answers as `any` on purpose and assert on them.
    files: ['test/**', 'bench/**'],
    rules: {
      '@typescript-eslint/no-explicit-any': 'off',
      '@typescript-eslint/no-unsafe-argument': 'off',
      '@typescript-eslint/no-unsafe-assignment': 'off',
      '@typescript-eslint/no-unsafe-call': 'off',
      '@typescript-eslint/no-unsafe-member-access': 'off',
      '@typescript-eslint/no-unsafe-return': 'off',
    },
  },
  {
    // The pages' browser script is untyped JavaScript: every value is `any`, so only the rules
    // that do not depend on declared types are worth their noise.
    files: ['src/api/pages/assets/app.js'],
    languageOptions: { globals: globals.browser, sourceType: 'script' },
    rules: {
      '@typescript-eslint/no-unsafe-argument': 'off',
      '@typescript-eslint/no-unsafe-assignment': 'off',
      '@typescript-eslint/no-unsafe-call': 'off',
      '@typescript-eslint/no-unsafe-member-access': 'off',
      '@typescript-eslint/no-unsafe-return': 'off',
    },
  },
  {
    // The failure converter is CommonJS: the SDK loads it by path with require(), and webpack bundles it.
    files: ['src/temporal/failure-converter.cjs'],
    languageOptions: { globals: globals.commonjs, sourceType: 'commonjs' },
    rules: {
      '@typescript-eslint/no-require-imports': 'off',
      '@typescript-eslint/no-unsafe-assignment': 'off',
      '@typescript-eslint/no-unsafe-call': 'off',
      '@typescript-eslint/no-unsafe-member-access': 'off',
    },
  },
  {
    // Qonto wants the answer within a second: the receiver's path talks to the store and Temporal only.
    files: ['src/webhooks/receiver.ts', 'src/webhooks/forward.ts'],
    rules: {
      '@typescript-eslint/no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              regex: '(^|/)src/(qonto|onedrive)/|^\\.\\./(qonto|onedrive)/',
              allowTypeImports: true,
              message: 'The webhook receiver makes no Qonto or Graph request: hand the work to the workflow.',
            },
          ],
        },
      ],
    },
  },
  {
    files: workflowBundle,
    rules: {
      // The sandbox has no Node: a built-in either fails the bundle or, worse, behaves differently
      // on replay. Activities run outside the sandbox and are reached through proxyActivities only.
      '@typescript-eslint/no-restricted-imports': [
        'error',
        {
          paths: [
            ...nodeBuiltins.map((name) => ({ name, message: 'Workflow code runs in a sandbox without Node built-ins.' })),
            ...['@temporalio/activity', '@temporalio/client', '@temporalio/worker', '@temporalio/testing'].map(
              (name) => ({
                name,
                allowTypeImports: true,
                message: 'Workflow code may only use @temporalio/workflow (and @temporalio/common) at run time.',
              }),
            ),
          ],
          patterns: [
            { group: ['node:*'], message: 'Workflow code runs in a sandbox without Node built-ins.' },
            {
              regex: '(^|/)activities(/|$)',
              allowTypeImports: true,
              message: 'Import activities as types only and call them through proxyActivities.',
            },
            {
              regex: '^(\\.\\./)+src/(?!sync/(schedule|retry|spread)\\.js$)',
              allowTypeImports: true,
              message: 'Import it as a type, or list the module in workflowBundle (eslint.config.js) if it is deterministic.',
            },
          ],
        },
      ],
      // Timers outside cancellation scopes, I/O and GC-dependent objects are not replayed
      // deterministically. Date and Math.random are fine: the sandbox replaces them.
      'no-restricted-globals': [
        'error',
        ...['setTimeout', 'setInterval', 'setImmediate', 'clearTimeout', 'clearInterval', 'clearImmediate'].map(
          (name) => ({ name, message: 'Use sleep() or condition() from @temporalio/workflow.' }),
        ),
        ...['fetch', 'XMLHttpRequest', 'WebSocket'].map((name) => ({
          name,
          message: 'Workflow code does no I/O: call an activity.',
        })),
        ...['process', 'require', 'Buffer', 'global', '__dirname', '__filename'].map((name) => ({
          name,
          message: 'Node globals do not exist in the workflow sandbox.',
        })),
        { name: 'crypto', message: 'Use uuid4() from @temporalio/workflow, or an activity.' },
        { name: 'performance', message: 'Use Date.now(), which the sandbox keeps deterministic.' },
        { name: 'console', message: 'Use log from @temporalio/workflow, which is replay-aware.' },
        ...['WeakRef', 'FinalizationRegistry'].map((name) => ({
          name,
          message: 'Garbage collection is not deterministic.',
        })),
      ],
      'no-restricted-syntax': [
        'error',
        { selector: 'ImportExpression', message: 'The workflow bundle is static: no dynamic import().' },
      ],
    },
  },
);
