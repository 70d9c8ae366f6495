import js from "@eslint/js";
import prettier from "eslint-config-prettier";
import globals from "globals";
import tseslint from "typescript-eslint";

export default tseslint.config(
  {
    ignores: [
      "dist/",
      "node_modules/",
      "src/generated/",
      "coverage/",
      "test-artifacts/",
      ".data/",
      "scratch/",
      "reports/",
      ".stryker-tmp/",
    ],
  },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: {
      globals: { ...globals.node },
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      "@typescript-eslint/no-unused-vars": ["error", { argsIgnorePattern: "^_", varsIgnorePattern: "^_" }],
      "@typescript-eslint/no-require-imports": "off",
      "no-console": "error",
      // Promises that nobody awaits lose their errors; async callbacks where void is expected lose them too.
      "@typescript-eslint/no-floating-promises": "error",
      "@typescript-eslint/no-misused-promises": "error",
      "@typescript-eslint/await-thenable": "error",
      "@typescript-eslint/require-await": "error",
      "@typescript-eslint/no-unnecessary-type-assertion": "error",
    },
  },
  {
    // Only a capability's routes file speaks HTTP; its services and workers speak in AppErrors.
    files: ["src/**/*.ts"],
    ignores: [
      "src/http/**",
      "src/**/routes.ts",
      "src/app.ts",
      "src/services.ts",
      "src/operations.ts",
      "src/runtime.ts",
    ],
    rules: {
      "no-restricted-imports": [
        "error",
        {
          patterns: [{ group: ["**/http/*"], message: "Only routes files and the composition root import src/http/." }],
        },
      ],
    },
  },
  {
    files: ["**/*.cjs", "**/*.js", "**/*.mjs"],
    ...tseslint.configs.disableTypeChecked,
  },
  {
    files: ["**/*.cjs", "**/*.js"],
    languageOptions: { sourceType: "commonjs", globals: { ...globals.node } },
  },
  {
    files: ["public/**/*.js"],
    languageOptions: { sourceType: "script", globals: { ...globals.browser } },
  },
  prettier,
);
