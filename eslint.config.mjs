import js from '@eslint/js';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  {
    ignores: [
      'dist/',
      'bench-results/',
      'examples/',
      'resources/',
      'node_modules/',
      'data/',
      '**/*.cjs',
      '**/*.mjs',
    ],
  },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_' }],
      // Node-RED nodes conventionally keep `const node = this` for callbacks.
      '@typescript-eslint/no-this-alias': 'off',
    },
  },
);
