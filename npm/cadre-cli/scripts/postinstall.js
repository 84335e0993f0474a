'use strict';
// After `npm install`: checks that the native binary for this machine runs. Only ever warns: a
// failed check must not fail the install, and nothing depends on this script having run (it is
// skipped under --ignore-scripts).

function warn(message) {
  process.stderr.write(`cadre-cli: warning: ${message}\n`);
}

try {
  const { spawnSync } = require('child_process');
  const { findBinary } = require('../lib/find-binary.js');
  const found = findBinary();
  if (found.error) {
    warn(found.error);
  } else {
    const run = spawnSync(found.binary, ['--version'], { encoding: 'utf8', timeout: 30000 });
    if (run.error) {
      warn(`could not run ${found.binary} --version: ${run.error.message}`);
    } else if (run.status !== 0) {
      const detail = (run.stderr || '').trim().split('\n')[0] || `exit status ${run.status}, signal ${run.signal}`;
      warn(`${found.binary} --version failed: ${detail}`);
    }
  }
} catch (err) {
  warn(`could not check the cadre binary: ${err && err.message}`);
}
process.exit(0);
