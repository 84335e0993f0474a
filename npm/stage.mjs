#!/usr/bin/env node
// Assembles publishable npm package folders from the sources in npm/ and built binaries:
//
//   node npm/stage.mjs --version 1.2.3 --out DIR [--binary linux-x64=path/to/cadre ...] [--pack TGZDIR]
//
// DIR/cadre-cli is the main package with its version and every optionalDependencies entry set
// to --version; DIR/cadre-cli-<platform> is stamped from npm/platform-template for each
// --binary given, with the binary copied to bin/. With --pack, `npm pack` writes a tarball of
// each staged package into TGZDIR and the tarball paths are printed, one a line.

import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const npmDir = path.dirname(fileURLToPath(import.meta.url));
const platforms = JSON.parse(fs.readFileSync(path.join(npmDir, 'platforms.json'), 'utf8'));

function fail(message) {
  process.stderr.write(`stage.mjs: ${message}\n`);
  process.exit(1);
}

function parseArgs(argv) {
  const options = { binaries: [] };
  for (let i = 0; i < argv.length; i += 2) {
    const [flag, value] = [argv[i], argv[i + 1]];
    if (value === undefined) fail(`${flag} needs a value`);
    if (flag === '--version') options.version = value;
    else if (flag === '--out') options.out = path.resolve(value);
    else if (flag === '--pack') options.pack = path.resolve(value);
    else if (flag === '--binary') {
      const at = value.indexOf('=');
      if (at < 1) fail(`--binary takes PLATFORM=PATH, got ${value}`);
      options.binaries.push({ platform: value.slice(0, at), file: path.resolve(value.slice(at + 1)) });
    } else fail(`unknown argument ${flag}`);
  }
  if (!options.version) fail('--version is required');
  if (!/^\d+\.\d+\.\d+(-[0-9A-Za-z.-]+)?(\+[0-9A-Za-z.-]+)?$/.test(options.version)) {
    fail(`--version ${options.version} is not a semver version`);
  }
  if (!options.out) fail('--out is required');
  return options;
}

function stageMain(version, out) {
  const source = path.join(npmDir, 'cadre-cli');
  const dest = path.join(out, 'cadre-cli');
  fs.rmSync(dest, { recursive: true, force: true });
  fs.mkdirSync(path.join(dest, 'bin'), { recursive: true });
  fs.copyFileSync(path.join(source, 'bin', 'cadre.js'), path.join(dest, 'bin', 'cadre.js'));
  fs.chmodSync(path.join(dest, 'bin', 'cadre.js'), 0o755);
  for (const dir of ['lib', 'scripts']) {
    fs.cpSync(path.join(source, dir), path.join(dest, dir), { recursive: true });
  }
  for (const file of ['README.md', '../../LICENSE']) {
    const from = path.join(source, file);
    if (fs.existsSync(from)) fs.copyFileSync(from, path.join(dest, path.basename(file)));
  }

  const manifest = JSON.parse(fs.readFileSync(path.join(source, 'package.json'), 'utf8'));
  manifest.version = version;
  manifest.optionalDependencies = Object.fromEntries(
    platforms.map(({ platform }) => [`cadre-cli-${platform}`, version]),
  );
  fs.writeFileSync(path.join(dest, 'package.json'), `${JSON.stringify(manifest, null, 2)}\n`);
  return dest;
}

function stagePlatform(version, out, { platform, file }) {
  const info = platforms.find((p) => p.platform === platform);
  if (!info) fail(`unknown platform ${platform}; known: ${platforms.map((p) => p.platform).join(', ')}`);
  if (!fs.existsSync(file)) fail(`binary for ${platform} not found: ${file}`);

  const stamp = (text) =>
    text
      .replaceAll('{platform}', info.platform)
      .replaceAll('{os}', info.os)
      .replaceAll('{cpu}', info.cpu)
      .replaceAll('{target}', info.target)
      .replaceAll('{version}', version);
  const template = path.join(npmDir, 'platform-template');
  const dest = path.join(out, `cadre-cli-${platform}`);
  fs.rmSync(dest, { recursive: true, force: true });
  fs.mkdirSync(path.join(dest, 'bin'), { recursive: true });
  for (const name of fs.readdirSync(template)) {
    fs.writeFileSync(path.join(dest, name), stamp(fs.readFileSync(path.join(template, name), 'utf8')));
  }
  JSON.parse(fs.readFileSync(path.join(dest, 'package.json'), 'utf8')); // the stamped template is still JSON
  const binary = path.join(dest, 'bin', info.exe);
  fs.copyFileSync(file, binary);
  fs.chmodSync(binary, 0o755);
  return dest;
}

function pack(packageDir, destination) {
  fs.mkdirSync(destination, { recursive: true });
  const output = execFileSync(
    'npm',
    ['pack', '--json', '--pack-destination', destination, packageDir],
    { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'], shell: process.platform === 'win32' },
  );
  const [{ filename }] = JSON.parse(output);
  return path.join(destination, filename);
}

const options = parseArgs(process.argv.slice(2));
fs.mkdirSync(options.out, { recursive: true });
const staged = [
  ...options.binaries.map((binary) => stagePlatform(options.version, options.out, binary)),
  stageMain(options.version, options.out),
];
for (const dir of staged) {
  process.stdout.write(`${options.pack ? pack(dir, options.pack) : dir}\n`);
}
