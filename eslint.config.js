// @ts-check
import eslint from '@eslint/js';
import tseslint from 'typescript-eslint';

/**
 * The trusted core (src/tcb) may be imported only by the files named here.
 * Everything else must go through their safe, checked APIs (DESIGN.md §2).
 */
const TCB_ALLOWLIST = [
  'src/tcb/**/*.ts', // the core itself
  'src/labels.ts', // public facade: Tag, Label, Privilege (no minting, no unwrap)
  'src/errors.ts', // re-exports the core's error classes
  'src/authority.ts', // holds privileges for declassifiers; answers the write rule, never unwraps
  'src/engine/event.ts', // events hold labelled parts; reads go through readPart
  'src/engine/engine.ts', // units' labels and privilege sets, the checks on publish/output
  'src/engine/unit-context.ts', // the unit's API: write, label change, grant
  'test/**/*.ts', // adversarial and property tests attack the core directly
  'bench/label.ts', // measures the core's checks themselves
];

export default tseslint.config(
  { ignores: ['dist/**', 'coverage/**', 'node_modules/**', 'scripts/**', 'eslint.config.js'] },
  eslint.configs.recommended,
  ...tseslint.configs.strictTypeChecked,
  {
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      '@typescript-eslint/restrict-template-expressions': ['error', { allowNumber: true }],
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_' }],
      'no-restricted-syntax': [
        'error',
        { selector: 'TSEnumDeclaration', message: 'No enums (DESIGN.md §3).' },
        { selector: 'TSModuleDeclaration[kind="namespace"]', message: 'No namespaces.' },
      ],
    },
  },
  {
    files: ['**/*.ts'],
    ignores: TCB_ALLOWLIST,
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              regex: '(^|/)tcb(/|$)',
              message:
                'The trusted core is imported only by the allowlisted files in eslint.config.js; use the engine API or sluice/labels.',
            },
          ],
        },
      ],
    },
  },
  // Example pipeline files are plain JavaScript run by `sluice check` (and tested that way).
  { files: ['examples/**/*.mjs'], ...tseslint.configs.disableTypeChecked },
  {
    files: ['**/*.test.ts', 'test/**/*.ts', 'bench/**/*.ts'],
    rules: {
      '@typescript-eslint/no-floating-promises': 'off',
      '@typescript-eslint/no-non-null-assertion': 'off',
      '@typescript-eslint/no-confusing-void-expression': 'off',
      // Adversarial tests deliberately spread, stringify and misuse objects and classes.
      '@typescript-eslint/no-misused-spread': 'off',
      '@typescript-eslint/no-extraneous-class': 'off',
      '@typescript-eslint/no-base-to-string': 'off',
      '@typescript-eslint/no-unsafe-argument': 'off',
      '@typescript-eslint/no-unsafe-return': 'off',
      '@typescript-eslint/no-unnecessary-condition': 'off',
      '@typescript-eslint/no-unnecessary-type-assertion': 'off',
    },
  },
);
