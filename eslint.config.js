// ESLint (`npm run lint`, part of `npm test`): the recommended rules for every JavaScript
// file of the site and its scripts, with the globals of where each one runs.
import js from "@eslint/js";
import globals from "globals";

export default [
  { ignores: ["dist/**", "node_modules/**", ".venv/**", "test-results/**"] },
  js.configs.recommended,
  {
    files: ["app/**/*.js", "bench/**/*.js"],
    languageOptions: { ecmaVersion: 2025, sourceType: "module", globals: { ...globals.browser } }, // 2025: JSON modules
  },
  {
    files: ["app/sw.js"],
    languageOptions: {
      sourceType: "script",
      globals: { ...globals.serviceworker, __MANIFEST__: "readonly", __CSP__: "readonly", __TYPES__: "readonly" },
    },
  },
  {
    files: ["app/watchdog.js"], // a classic script: it must run where the modules did not
    languageOptions: { ecmaVersion: 5, sourceType: "script" },
  },
  {
    files: ["app/**/*worker*.js"],
    languageOptions: { globals: { ...globals.worker } },
  },
  {
    files: ["scripts/**/*.mjs", "eslint.config.js"],
    languageOptions: { ecmaVersion: 2024, sourceType: "module", globals: { ...globals.node } },
  },
  {
    // The cross-engine browser tests: Node modules whose functions also run in the page.
    files: ["tests/**/*.mjs"],
    languageOptions: { ecmaVersion: 2024, sourceType: "module", globals: { ...globals.node, ...globals.browser } },
  },
  {
    rules: {
      "no-unused-vars": ["error", { argsIgnorePattern: "^_", caughtErrors: "none" }],
    },
  },
];
