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
          { group: ['**/activities/*', '!**/activities/gpu', '!**/activities/cpu-api'], message: 'workflows import activities as types only (activities/gpu, activities/cpu-api)' },
        ],
      }],
      'no-restricted-properties': ['error',
        { object: 'Math', property: 'random', message: 'use the workflow sandbox (uuid4 / deterministic seed)' },
        { object: 'Date', property: 'now', message: 'workflow time comes from the sandbox; avoid relying on it for logic' },
      ],
    },
  },
);
