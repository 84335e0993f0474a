// Tests of the npm launcher (bin/cadre.js) and the postinstall check against a fake binary
// (fixtures/fake-cadre.sh): exit statuses, arguments, stdio and signals must pass through
// unchanged, and a missing binary must produce one line saying what to do.
//
//   node --test npm/test/launcher.test.mjs

import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';

const testDir = path.dirname(fileURLToPath(import.meta.url));
const packageDir = path.join(testDir, '..', 'cadre-cli');
const launcher = path.join(packageDir, 'bin', 'cadre.js');
const postinstall = path.join(packageDir, 'scripts', 'postinstall.js');
const fakeBinary = path.join(testDir, 'fixtures', 'fake-cadre.sh');
const unix = { skip: process.platform === 'win32' ? 'the fake binary is a bash script' : false };

function envWith(overrides) {
  const env = { ...process.env, ...overrides };
  for (const [key, value] of Object.entries(env)) if (value === undefined) delete env[key];
  return env;
}

function runLauncher(args, { env = { CADRE_BINARY: fakeBinary }, input, script = launcher, nodeArgs = [] } = {}) {
  return spawnSync(process.execPath, [...nodeArgs, script, ...args], {
    env: envWith(env),
    input,
    encoding: 'utf8',
    timeout: 30000,
  });
}

// A copy of the main package somewhere no cadre-cli-<platform> package can be resolved from.
function isolatedPackage(t) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cadre-launcher-test-'));
  t.after(() => fs.rmSync(dir, { recursive: true, force: true }));
  const copy = path.join(dir, 'cadre-cli');
  fs.cpSync(packageDir, copy, { recursive: true });
  return copy;
}

function errorLines(result) {
  return result.stderr.split('\n').filter((line) => line !== '');
}

test('exit statuses pass through unchanged', unix, () => {
  for (const status of [0, 1, 2, 42, 255]) {
    const result = runLauncher(['exit', String(status)]);
    assert.equal(result.error, undefined);
    assert.equal(result.signal, null);
    assert.equal(result.status, status, `child exited ${status}`);
  }
});

test('arguments reach the binary verbatim', unix, () => {
  const args = ['two words', '', '--flag=value', 'ünïcødé', '"quoted"', '$HOME', '*'];
  const result = runLauncher(['args', ...args]);
  assert.equal(result.status, 0, result.stderr);
  assert.equal(result.stdout, args.map((arg) => `<${arg}>\n`).join(''));
});

test('stdin, stdout and stderr are the launcher\'s own', unix, () => {
  const result = runLauncher(['echo-stdin'], { input: 'line one\nline two\n' });
  assert.equal(result.status, 0);
  assert.equal(result.stdout, 'line one\nline two\n');
  assert.equal(result.stderr, 'to stderr\n');
});

for (const signal of ['SIGKILL', 'SIGTERM', 'SIGINT', 'SIGHUP']) {
  test(`a binary killed by ${signal} takes the launcher down with ${signal}`, unix, () => {
    const result = runLauncher(['kill-self', signal.slice(3)]);
    assert.equal(result.status, null, `launcher exited with status ${result.status}: ${result.stderr}`);
    assert.equal(result.signal, signal);
  });
}

function waitForOutput(child, text) {
  return new Promise((resolve, reject) => {
    let seen = '';
    const onData = (chunk) => {
      seen += chunk;
      if (seen.includes(text)) {
        child.stdout.off('data', onData);
        resolve(seen);
      }
    };
    child.stdout.on('data', onData);
    child.once('exit', (code, signal) => reject(new Error(`exited (${code}, ${signal}) before printing ${text}; stdout: ${seen}`)));
  });
}

// Starts the launcher on the fake binary in `trap` mode and waits until the binary is ready for
// the signal. If the test fails midway, the binary is killed so it cannot hold the test run open.
async function startTrapping(t, signal, status) {
  const child = spawn(process.execPath, [launcher, 'trap', signal.slice(3), String(status)], {
    env: envWith({ CADRE_BINARY: fakeBinary }),
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  child.stdout.setEncoding('utf8');
  const exited = new Promise((resolve) => child.once('exit', (code, sig) => resolve({ code, sig })));
  const ready = await waitForOutput(child, 'ready');
  const binaryPid = Number(/ready (\d+)/.exec(ready)?.[1]);
  t.after(() => {
    for (const pid of [child.pid, binaryPid]) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // Already gone, as it should be.
      }
    }
  });
  return { child, exited };
}

const signalTest = { ...unix, timeout: 30000 };

for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP']) {
  test(`${signal} sent to the launcher reaches the binary and the launcher outlives it`, signalTest, async (t) => {
    const { child, exited } = await startTrapping(t, signal, 23);
    child.kill(signal);
    await waitForOutput(child, `caught ${signal.slice(3)}`);
    // The binary handled the signal and is still running: so must the launcher be.
    assert.equal(child.exitCode, null);
    assert.equal(child.signalCode, null);
    child.stdin.end('finish\n');
    assert.deepEqual(await exited, { code: 23, sig: null });
  });
}

test('a binary that exits 143 after SIGTERM makes the launcher exit 143', signalTest, async (t) => {
  const { child, exited } = await startTrapping(t, 'SIGTERM', 143);
  child.kill('SIGTERM');
  await waitForOutput(child, 'caught TERM');
  child.stdin.end('\n');
  assert.deepEqual(await exited, { code: 143, sig: null });
});

test('CADRE_BINARY pointing nowhere gives one line naming it', () => {
  const missing = path.join(os.tmpdir(), 'cadre-no-such-binary');
  const result = runLauncher(['--version'], { env: { CADRE_BINARY: missing } });
  assert.equal(result.status, 1);
  const lines = errorLines(result);
  assert.equal(lines.length, 1, result.stderr);
  assert.match(lines[0], /^cadre: CADRE_BINARY/);
  assert.ok(lines[0].includes(missing));
});

test('a missing platform package gives one line naming it and the fix', (t) => {
  const copy = isolatedPackage(t);
  const result = runLauncher(['--version'], {
    env: { CADRE_BINARY: undefined },
    script: path.join(copy, 'bin', 'cadre.js'),
  });
  assert.equal(result.status, 1);
  const lines = errorLines(result);
  assert.equal(lines.length, 1, result.stderr);
  assert.ok(lines[0].includes(`cadre-cli-${process.platform}-${process.arch}`), lines[0]);
  assert.ok(lines[0].includes('--omit=optional'), lines[0]);
  assert.ok(lines[0].includes('cargo install'), lines[0]);
});

test('an unsupported platform gives one line naming it and the fix', (t) => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cadre-launcher-test-'));
  t.after(() => fs.rmSync(dir, { recursive: true, force: true }));
  const pretend = path.join(dir, 'pretend-aix.cjs');
  fs.writeFileSync(pretend, "Object.defineProperty(process, 'platform', { value: 'aix' });\n");
  const result = runLauncher(['--version'], {
    env: { CADRE_BINARY: undefined },
    nodeArgs: ['--require', pretend],
  });
  assert.equal(result.status, 1);
  const lines = errorLines(result);
  assert.equal(lines.length, 1, result.stderr);
  assert.ok(lines[0].includes(`aix-${process.arch}`), lines[0]);
  assert.ok(lines[0].includes('cargo install'), lines[0]);
});

test('postinstall is silent when the binary runs', unix, () => {
  const result = runLauncher([], { script: postinstall });
  assert.equal(result.status, 0);
  assert.equal(result.stdout, '');
  assert.equal(result.stderr, '');
});

test('postinstall warns but succeeds when the binary fails', unix, () => {
  const result = runLauncher([], {
    script: postinstall,
    env: { CADRE_BINARY: fakeBinary, FAKE_CADRE_VERSION_STATUS: '3' },
  });
  assert.equal(result.status, 0);
  assert.match(result.stderr, /^cadre-cli: warning: .*--version failed/);
});

test('postinstall warns but succeeds when the platform package is missing', (t) => {
  const copy = isolatedPackage(t);
  const result = runLauncher([], {
    script: path.join(copy, 'scripts', 'postinstall.js'),
    env: { CADRE_BINARY: undefined },
  });
  assert.equal(result.status, 0);
  assert.equal(errorLines(result).length, 1, result.stderr);
  assert.match(result.stderr, /^cadre-cli: warning: .*cadre-cli-/);
});
