'use strict';
// Builds the deployment packages with wasi-lambda's own build before the Serverless
// Framework packages, deploys or invokes locally, so `serverless package` alone is enough.
const { spawnSync } = require('node:child_process');
const { join } = require('node:path');

class WasiLambdaPlugin {
  constructor(serverless, _options, { log }) {
    this.serverless = serverless;
    this.log = log;
    const build = () => this.build();
    this.hooks = {
      'before:package:createDeploymentArtifacts': build,
      'before:deploy:function:packageFunction': build,
      'before:invoke:local:invoke': build,
    };
  }

  build() {
    if (process.env.WASI_LAMBDA_SKIP_BUILD === '1') return;
    const root = this.serverless.serviceDir;
    this.log.notice('wasi-lambda: building the deployment packages');
    const result = spawnSync(process.execPath, [join(__dirname, '..', 'dist', 'cli.js'), 'package'], {
      cwd: root,
      stdio: ['ignore', 'inherit', 'inherit'],
    });
    if (result.status !== 0) {
      throw new this.serverless.classes.Error(
        `wasi-lambda package failed (exit ${result.status}); see the output above`,
      );
    }
  }
}

module.exports = WasiLambdaPlugin;
