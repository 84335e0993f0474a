#!/usr/bin/env node
'use strict';
// Runs the native cadre binary with our arguments and stdio, and ends the way it ended: same
// exit status, or killed by the same signal. Signals sent to this launcher go to the binary; the
// launcher itself never exits before the binary does.

const { spawn } = require('child_process');
const os = require('os');
const { findBinary } = require('../lib/find-binary.js');

const found = findBinary();
if (found.error) {
  process.stderr.write(`cadre: ${found.error}\n`);
  process.exit(1);
}

// On Windows a console Ctrl+C already reaches every process attached to the console, and
// `child.kill` would terminate the binary outright instead of letting it handle the interrupt:
// there we only keep the launcher alive.
const FORWARDED_SIGNALS =
  process.platform === 'win32'
    ? ['SIGINT', 'SIGBREAK']
    : ['SIGINT', 'SIGTERM', 'SIGHUP', 'SIGQUIT', 'SIGUSR2'];

// Listen before spawning: a signal that arrived between the spawn and the listeners would kill the
// launcher and orphan the binary.
let child;
const pendingSignals = [];

function forward(signal) {
  if (process.platform === 'win32') return;
  if (child === undefined) {
    pendingSignals.push(signal);
    return;
  }
  if (child.exitCode !== null || child.signalCode !== null) return;
  try {
    child.kill(signal);
  } catch {
    // The child exited between the check and the kill; its exit handler takes over.
  }
}

for (const signal of FORWARDED_SIGNALS) {
  try {
    process.on(signal, forward);
  } catch {
    // A signal this platform cannot listen for.
  }
}

child = spawn(found.binary, process.argv.slice(2), { stdio: 'inherit' });
for (const signal of pendingSignals.splice(0)) forward(signal);

child.on('error', (err) => {
  process.stderr.write(`cadre: could not start ${found.binary}: ${err.message}\n`);
  process.exit(1);
});

child.on('exit', (code, signal) => {
  if (signal === null) {
    process.exit(code === null ? 1 : code);
  }
  // Die of the same signal so that shells and supervisors see what really happened.
  for (const forwarded of FORWARDED_SIGNALS) process.removeAllListeners(forwarded);
  try {
    process.kill(process.pid, signal);
  } catch {
    // Fall through to the conventional status.
  }
  // Still alive: the signal is one Node ignores or handles itself (SIGPIPE, SIGUSR1), or there are
  // no signals (Windows).
  process.exit(128 + (os.constants.signals[signal] || 0));
});
