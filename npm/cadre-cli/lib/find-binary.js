'use strict';
// Locates the native `cadre` binary that the launcher and the postinstall check run.
//
// The binary ships in one package per platform (`cadre-cli-<platform>-<arch>`), listed as an
// optional dependency of `cadre-cli`, so npm installs only the one whose `os`/`cpu` match. The
// list of platforms we publish is read from our own `optionalDependencies`, so it is written down
// once. `CADRE_BINARY` overrides the lookup (development builds, testing, unusual installs).

const fs = require('fs');
const path = require('path');

const PLATFORM_PACKAGE_PREFIX = 'cadre-cli-';
const SOURCE_INSTALL = 'cargo install --locked --git https://github.com/cadre-dev/cadre cadre-cli';

function platformKey() {
  return `${process.platform}-${process.arch}`;
}

function publishedPlatforms() {
  const manifest = require('../package.json');
  return Object.keys(manifest.optionalDependencies || {})
    .filter((name) => name.startsWith(PLATFORM_PACKAGE_PREFIX))
    .map((name) => name.slice(PLATFORM_PACKAGE_PREFIX.length));
}

// npm does not promise to keep the executable bit of files that are not declared as `bin`;
// restore it rather than fail with EACCES.
function ensureExecutable(binary) {
  if (process.platform === 'win32') return;
  try {
    const mode = fs.statSync(binary).mode;
    if ((mode & 0o111) !== 0o111) fs.chmodSync(binary, mode | 0o755);
  } catch {
    // Read-only install location: spawning reports the real problem.
  }
}

/**
 * Finds the binary for this machine.
 * @returns {{binary: string} | {error: string}} the path, or one line saying what is wrong and
 *   what to do about it.
 */
function findBinary(env = process.env) {
  if (env.CADRE_BINARY) {
    if (!fs.existsSync(env.CADRE_BINARY)) {
      return {
        error: `CADRE_BINARY is set to ${env.CADRE_BINARY}, which does not exist; unset it or point it at a cadre binary`,
      };
    }
    return { binary: env.CADRE_BINARY };
  }

  const platform = platformKey();
  const packageName = `${PLATFORM_PACKAGE_PREFIX}${platform}`;
  if (!publishedPlatforms().includes(platform)) {
    return {
      error: `no prebuilt cadre binary exists for ${platform}; build it from source with: ${SOURCE_INSTALL}`,
    };
  }

  let manifestPath;
  try {
    manifestPath = require.resolve(`${packageName}/package.json`);
  } catch {
    return {
      error: `the package ${packageName} that holds the cadre binary for ${platform} is not installed (optional dependencies omitted?); reinstall without --omit=optional / --no-optional (npm install -g cadre-cli), or build from source with: ${SOURCE_INSTALL}`,
    };
  }

  const exe = process.platform === 'win32' ? 'cadre.exe' : 'cadre';
  const binary = path.join(path.dirname(manifestPath), 'bin', exe);
  if (!fs.existsSync(binary)) {
    return {
      error: `${packageName} is installed but has no ${path.join('bin', exe)}; reinstall it (npm install -g cadre-cli), or build from source with: ${SOURCE_INSTALL}`,
    };
  }
  ensureExecutable(binary);
  return { binary };
}

module.exports = { findBinary, platformKey };
