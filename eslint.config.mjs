// Lint rules that matter here: promises are never left floating, type-only imports are marked,
// and workflow code stays deterministic (no Node builtins, no I/O, no wall clock or randomness
// beyond what the Temporal sandbox replaces).
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['node_modules/**', '.hala/**', 'gpu-runners/**', 'contracts/json-schema/**', '**/*.mjs'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    files: ['**/*.ts'],
    languageOptions: { parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname } },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/consistent-type-imports': ['error', { fixStyle: 'inline-type-imports' }],
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
    },
  },
  {
    files: ['workflows/**/*.ts'],
    rules: {
      'no-restricted-imports': ['error', {
        patterns: [
          { group: ['node:*', 'fs', 'path', 'os', 'crypto', 'child_process', 'http', 'https', 'net'], message: 'workflow code must be deterministic: no Node builtins or I/O' },
          { group: ['**/activities/**', '**/activities'], message: 'workflows import activities as types only, from their declarations in contracts/ (cpu-activity-fns.ts, gpu-activity-fns.ts)' },
          { group: ['**/workers/**', '**/platform/**', '**/cli/**'], message: 'workflow code runs in the sandbox: it imports contracts/ and other workflow code only' },
        ],
      }],
      'no-restricted-properties': ['error',
        { object: 'Math', property: 'random', message: 'use the workflow sandbox (uuid4 / deterministic seed)' },
        { object: 'Date', property: 'now', message: 'workflow time comes from the sandbox; avoid relying on it for logic' },
      ],
    },
  },
  // Imports point down the house: contracts <- platform <- activities <- workers, and cli beside workers.
  // Each rule names the rooms above the folder, so an upward import fails lint.
  {
    files: ['contracts/**/*.ts'],
    rules: {
      'no-restricted-imports': ['error', {
        patterns: [{ group: ['**/activities/**', '**/workflows/**', '**/workers/**', '**/platform/**', '**/cli/**'], message: 'contracts/ is the bottom room: it imports nothing from the rest of the repository' }],
      }],
    },
  },
  {
    files: ['platform/**/*.ts'],
    rules: {
      'no-restricted-imports': ['error', {
        patterns: [{ group: ['**/activities/**', '**/workflows/**', '**/workers/**', '**/cli/**'], message: 'platform/ is plumbing shared by cli, workers and activities: it imports only contracts/ and security/' }],
      }],
    },
  },
  {
    files: ['activities/**/*.ts'],
    rules: {
      'no-restricted-imports': ['error', {
        patterns: [{ group: ['**/workflows/**', '**/workers/**', '**/cli/**'], message: 'activities import contracts/, platform/ and each other; shared plumbing belongs in platform/' }],
      }],
    },
  },
  {
    // `hala up` launches the local stack, which starts every worker as its own process: the CLI
    // imports that launcher and nothing else of workers/, so it never loads worker code itself.
    files: ['cli/**/*.ts'],
    rules: {
      'no-restricted-imports': ['error', {
        patterns: [{ group: ['**/workers/**', '!**/workers/local-stack'], message: 'cli imports shared plumbing from platform/; of workers/ only the launcher workers/local-stack (hala up)' }],
      }],
    },
  },
);
