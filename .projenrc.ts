import { awscdk, javascript } from 'projen';

// aws-cdk-lib is both the peer floor and the exact devDep; integ-tests-alpha must exist at the same version.
const CDK_VERSION = '2.245.0';
// Pinned and bundled into the handler: the client stopped being published in 2026-04 and Lambda runtimes may drop it.
const PROTON_CLIENT_VERSION = '3.1029.0';

const project = new awscdk.AwsCdkConstructLibrary({
  name: 'cdk-proton',
  description: 'AWS Proton as code: templates, versions, environments and services as CDK constructs, with proton-local to test them offline',
  keywords: ['aws', 'cdk', 'proton', 'custom-resource', 'emulator'],
  author: 'cdk-proton maintainers',
  authorAddress: 'maintainers@cdk-proton.dev',
  repositoryUrl: 'https://github.com/cdk-proton/cdk-proton.git',
  defaultReleaseBranch: 'main',
  projenrcTs: true,
  packageManager: javascript.NodePackageManager.NPM,
  stability: 'experimental',
  license: 'Apache-2.0',
  minNodeVersion: '20.0.0',

  cdkVersion: CDK_VERSION,
  constructsVersion: '10.5.0',
  jsiiVersion: '~5.9.0',
  typescriptVersion: '~5.9.0',

  publishToPypi: { distName: 'cdk-proton', module: 'cdk_proton' },
  publishToMaven: { javaPackage: 'dev.cdkproton', mavenGroupId: 'dev.cdkproton', mavenArtifactId: 'cdk-proton' },
  publishToNuget: { dotNetNamespace: 'CdkProton', packageId: 'CdkProton' },
  publishToGo: { moduleName: 'github.com/cdk-proton/cdk-proton-go' },

  // Handlers live in lambda/ (wired explicitly below); projen's discovery only scans src/.
  lambdaAutoDiscover: false,
  edgeLambdaAutoDiscover: false,
  singletonLambdaAutoDiscover: false,
  lambdaExtensionAutoDiscover: false,
  integrationTestAutoDiscover: false,

  // Runtime dependencies of the constructs and of proton-local; jsii requires them bundled. Bundles are packed and read
  // by src/private/tar.ts: see there why no tar library is among them. nunjucks renders Proton's Jinja IaC files
  // (src/render/); it is the maintained Jinja-compatible engine for JavaScript.
  bundledDeps: ['yaml@^2.9.1', 'ajv@^8.20.0', 'nunjucks@^3.2.4'],
  devDeps: [
    `@aws-sdk/client-proton@${PROTON_CLIENT_VERSION}`,
    '@aws-sdk/client-s3@^3',
    '@types/aws-lambda',
    // An independent tar implementation (with its own types): the tests check that our archives and other tools' interoperate.
    'tar-stream@^3.2.2',
    '@types/nunjucks',
    'esbuild',
    // Runs TypeScript apps, the examples and the CLI from source (ts-node 10 crashes on current TypeScript releases;
    // ts-node stays only for projen's own .projenrc.ts).
    'tsx@^4.23.0',
    // The SDK's own error classification (throttling, transient, server errors), bundled into the handler with the client.
    '@smithy/core@^3.41.0',
    // AwsSolutions checks over the example app (cdk-nag 3 needs aws-cdk-lib 2.257, past our peer floor; 2.38 needs constructs 10.5.1).
    'cdk-nag@~2.37.55',
    // integ-tests-alpha's assertion stacks (test/integ-assertions.test.ts): proton-local runs their Proton SDK calls.
    `@aws-cdk/integ-tests-alpha@${CDK_VERSION}-alpha.0`,
  ],
  bin: { 'proton-local': 'lib/local/cli.js' },

  gitignore: ['cdk.out', '.proton-local/', 'bench/results/', '*.tsbuildinfo'],
  jestOptions: {
    // Snapshots are never rewritten by the test task, and a run that executes no test fails.
    updateSnapshot: javascript.UpdateSnapshot.NEVER,
    passWithNoTests: false,
    // Machine-readable results: .ci/run prints its summary line from this file.
    extraCliOptions: ['--json', '--outputFile=test-reports/jest-results.json'],
    jestConfig: {
      coveragePathIgnorePatterns: ['/node_modules/', '/src/handlers/'],
      testTimeout: 60_000,
    },
  },
  // projen 0.103 writes the dev tsconfig to test/, so its includes are relative to test/. isolatedModules makes
  // ts-jest transpile without type-checking (jsii and eslint type-check), which keeps the suite fast on 2 cores.
  // The compiled library keeps its source maps but not a second copy of every source inside them (half of lib/'s
  // size): the package stays under 1.5 MB (test/package.test.ts); the sources are in the repository.
  tsconfig: { compilerOptions: { inlineSources: false } },
  tsconfigDev: {
    include: ['../lambda/**/*.ts', '../examples/**/*.ts', '../bench/**/*.ts'],
    compilerOptions: { isolatedModules: true },
  },
});

// Tests live in test/ only: projen's default patterns also match src/**/*spec.ts, such as src/private/spec.ts.
project.tryFindObjectFile('package.json')?.addOverride('jest.testMatch', ['<rootDir>/test/**/*.test.ts']);

// One handler entry for every Proton resource type: lambda/proton.lambda.ts, esbuild-bundled into assets/
// with the Proton client inside it (externals: none).
new awscdk.LambdaFunction(project, {
  entrypoint: 'lambda/proton.lambda.ts',
  constructFile: 'src/handlers/proton-function.ts',
  cdkDeps: project.cdkDeps,
  // The handler runs beside the Provider framework's own functions (onEvent, isComplete, onTimeout), which aws-cdk-lib
  // puts on determineLatestNodeRuntime(): this makes ours the same call, so a Provider has one Node.js runtime in
  // whatever aws-cdk-lib the app uses (nodejs22.x for 2.245, later releases move on), and a Lambda runtime deprecation
  // is fixed by upgrading aws-cdk-lib rather than waiting for a cdk-proton release. The bundle targets node22, the
  // oldest runtime that can return for our aws-cdk-lib floor; that output also runs on Node.js 20, where proton-local
  // executes the same bundle in process.
  runtime: awscdk.LambdaRuntime.NODEJS_REGIONAL_LATEST,
  awsSdkConnectionReuse: false,
  bundlingOptions: { externals: [], sourcemap: false },
});

// Handler code, example apps and benchmarks are linted and type-checked like src/, but not shipped. typescript-eslint's
// project service reads the nearest tsconfig.json, so each folder gets one (as projen does for projenrc/).
for (const folder of ['lambda', 'examples', 'bench']) {
  project.eslint?.addLintPattern(folder);
  project.eslint?.allowDevDeps(`${folder}/**/*.ts`);
  new javascript.TypescriptConfig(project, {
    fileName: `${folder}/tsconfig.json`,
    include: ['**/*.ts'],
    extends: javascript.TypescriptConfigExtends.fromTypescriptConfigs([project.tsconfig!]),
    compilerOptions: { noEmit: true, rootDir: '..' },
  });
  // The example app's template bundles ship: the compiled demo app (lib/local/demo/) reads them from an installed package.
  project.addPackageIgnore(folder === 'examples' ? '/examples/*' : `/${folder}/`);
}
project.addPackageIgnore('!/examples/templates/');
// The package holds what users run (lib/, assets/, .jsii, the example bundles) and its documentation (README, API.md);
// test/package.test.ts fails on anything else. These are the development files that the defaults above let through.
for (const pattern of ['/.ci/', '/.proton-local/', '/CONTRIBUTING.md', '/cdk.out/', '/bench/', '*.tsbuildinfo', '/.jsii.tabl.json', '/test-reports/']) {
  project.addPackageIgnore(pattern);
}
project.eslint?.allowDevDeps('src/local/**/*.ts');

// The README's examples must compile (and translate to every jsii language) in strict mode.
project.addGitIgnore('.jsii.tabl.json');
project.postCompileTask.spawn(project.addTask('rosetta:extract', {
  description: 'Compile the README and docstring examples',
  exec: 'jsii-rosetta extract --strict',
}));

// ts-jest transpiles without type-checking (isolatedModules) and esbuild bundles the handler without it: the tests,
// handler code, examples and benchmarks are type-checked once, before the tests run.
project.testTask.prependSpawn(project.addTask('typecheck', {
  description: 'Type-check the tests, handler code, examples and benchmarks',
  exec: 'tsc --noEmit -p test/tsconfig.json',
}));

// The README's main job: the example platform app deployed, upgraded and destroyed on an embedded proton-local.
project.addTask('demo', {
  description: 'Deploy, upgrade and destroy the example app against an embedded proton-local',
  steps: [
    { spawn: 'bundle' },
    { exec: 'tsx src/local/cli.ts demo --app "tsx examples/platform-app.ts" --state-dir .proton-local/demo' },
  ],
});
project.addTask('bench', {
  description: 'Run the benchmarks in bench/',
  steps: [{ spawn: 'bundle' }, { exec: 'tsx bench/run.ts' }],
});

// Bundled dependencies ship whole: the build first removes what Node never loads from them (browser builds, source
// maps, TypeScript sources), which keeps the package under 1.5 MB (test/package.test.ts).
project.preCompileTask.exec('node projenrc/prune-bundled-deps.js');

// Every build packages JavaScript only; the release workflow packages Python, Java, .NET and Go in jobs of their own.
// (projen's default runs package-all outside CI, which needs registries our machines cannot reach.)
project.packageTask.reset();
project.packageTask.spawn(project.tasks.tryFind('package:js')!);

project.synth();
