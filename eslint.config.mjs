// ESLint flat config: typescript-eslint's recommended rules, plus the layer boundary that keeps the
// pure core (src/domain) free of configuration, I/O modules, I/O libraries and Node built-ins.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import { builtinModules } from 'node:module';

/** The folders and modules of src/ that the pure core (src/domain) must not import. */
const OUTSIDE_DOMAIN = ['config', 'postgres', 'kafka', 'relay', 'observability', 'lifecycle', 'cli', 'genesis', 'sink', 'main', 'package-root'];

export default tseslint.config(
  { ignores: ['dist/**', 'build/**', 'node_modules/**', 'helm/**', 'bench/results/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    files: ['**/*.ts'],
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_' }],
      'no-constant-condition': ['error', { checkLoops: false }],
    },
  },
  {
    // The pure core: message building, encoding, partitioning, retry schedule, ordering and outcome
    // decisions. It may use src/errors.ts (no imports of its own) and itself, nothing else.
    files: ['src/domain/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          paths: [...builtinModules, 'pg', 'node-rdkafka', 'pino', 'prom-client', 'convict', 'yaml', 'postgres-array'].map((name) => ({
            name,
            message: 'src/domain is the pure core: no Node built-ins and no I/O libraries (see house style).',
          })),
          patterns: [
            { group: ['node:*'], message: 'src/domain is the pure core: no Node built-ins.' },
            {
              // Every other folder of src/ (and main, package-root): from domain/ itself or from a
              // subfolder of it. Subfolders of domain/ may import the rest of domain/.
              group: OUTSIDE_DOMAIN.flatMap((name) => ['../', '../../'].flatMap((up) => [`${up}${name}`, `${up}${name}/*`])),
              message: 'src/domain imports nothing from config/, I/O modules or the relay: move what it needs into domain/.',
            },
          ],
        },
      ],
    },
  },
  {
    files: ['src/**/*.ts'],
    ignores: ['src/cli/bin.ts'],
    rules: {
      'no-restricted-properties': [
        'error',
        { object: 'process', property: 'env', message: 'Only src/cli/bin.ts reads process.env; pass settings in.' },
      ],
    },
  },
  {
    files: ['**/*.js', '**/*.cjs'],
    languageOptions: { sourceType: 'commonjs', globals: { require: 'readonly', module: 'writable', process: 'readonly', __dirname: 'readonly', console: 'readonly', Buffer: 'readonly', setTimeout: 'readonly', clearTimeout: 'readonly' } },
    rules: { '@typescript-eslint/no-require-imports': 'off' },
  },
);
