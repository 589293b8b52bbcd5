/**
 * The layer rules of docs/style.md rule 1, checked by `npm run lint`:
 * src/domain ← src/app ← src/adapters and src/transport, with the composition root (src/*.ts) on top.
 * Test files and their fixtures may use test libraries, so they are left out of the library rules.
 */
const tests = "\\.(test|fixtures|harness)\\.ts$";

/** @type {import('dependency-cruiser').IConfiguration} */
module.exports = {
  forbidden: [
    {
      name: "domain-is-pure",
      comment: "The domain imports only itself: no generated code, no node:* modules, no npm packages.",
      severity: "error",
      from: { path: "^src/domain/", pathNot: tests },
      to: { pathNot: "^src/domain/" },
    },
    {
      name: "app-points-inward",
      comment:
        "The app imports only the domain and itself; adapters, transport and generated code come in through ports.",
      severity: "error",
      from: { path: "^src/app/", pathNot: tests },
      to: { path: "^(src/(adapters|transport|cli)/|gen/|src/[^/]+\\.ts$)" },
    },
    {
      name: "app-binds-no-library",
      comment:
        "The app binds no concrete library (metrics, ids, crypto, clock come in through ports); only the pino Logger type is shared.",
      severity: "error",
      from: { path: "^src/app/", pathNot: tests },
      to: {
        dependencyTypes: ["npm", "npm-dev", "npm-optional", "npm-peer", "npm-no-pkg", "npm-unknown", "core"],
        pathNot: "^node_modules/pino/",
      },
    },
    {
      name: "app-binds-no-library-pino",
      comment: "pino is allowed in the app as a type (the Logger interface), never as a value.",
      severity: "error",
      from: { path: "^src/app/", pathNot: tests },
      to: { path: "^node_modules/pino/", dependencyTypesNot: ["type-only"] },
    },
    {
      name: "adapters-not-transport",
      comment: "Adapters never import transport; a codec both need lives in src/codec/.",
      severity: "error",
      from: { path: "^src/adapters/" },
      to: { path: "^src/transport/" },
    },
    {
      name: "codec-between-layers",
      comment: "src/codec maps protobuf to domain types for transport and adapters alike, so it imports neither.",
      severity: "error",
      from: { path: "^src/codec/" },
      to: { path: "^src/(adapters|transport)/" },
    },
    {
      name: "inner-not-root",
      comment: "Nothing below the composition root imports it.",
      severity: "error",
      from: { path: "^src/(domain|app|adapters|transport|codec)/" },
      to: { path: "^src/[^/]+\\.ts$" },
    },
  ],
  options: {
    doNotFollow: { path: "node_modules" },
    preserveSymlinks: true,
    tsPreCompilationDeps: true,
    tsConfig: { fileName: "tsconfig.json" },
    enhancedResolveOptions: { exportsFields: ["exports"], conditionNames: ["import", "require", "node", "default"] },
  },
};
