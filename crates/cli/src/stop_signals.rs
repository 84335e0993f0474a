//! The signals that stop a piece of work (INT, TERM, HUP) and what cadre does on them.

use anyhow::Context;

/// A signal that stops cadre's work the way Ctrl-C does: the running commands' process groups
/// are killed, the interruption recorded, and cadre exits with 128 + the signal's number.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(not(unix), allow(dead_code))]
pub enum StopSignal {
    /// Ctrl-C.
    Interrupt,
    /// `kill`, a service manager, a container stopping.
    Terminate,
    /// The terminal was closed.
    HangUp,
}

impl StopSignal {
    pub fn exit_status(self) -> u8 {
        match self {
            StopSignal::Interrupt => 130,
            StopSignal::Terminate => 143,
            StopSignal::HangUp => 129,
        }
    }
}

pub struct StopSignals {
    #[cfg(unix)]
    interrupt: tokio::signal::unix::Signal,
    #[cfg(unix)]
    terminate: tokio::signal::unix::Signal,
    #[cfg(unix)]
    hang_up: tokio::signal::unix::Signal,
}

impl StopSignals {
    #[cfg(unix)]
    pub fn listen() -> anyhow::Result<Self> {
        use tokio::signal::unix::{SignalKind, signal};
        let listen = |kind| signal(kind).context("cannot listen for signals");
        Ok(StopSignals {
            interrupt: listen(SignalKind::interrupt())?,
            terminate: listen(SignalKind::terminate())?,
            hang_up: listen(SignalKind::hangup())?,
        })
    }

    #[cfg(unix)]
    async fn next(&mut self) -> Option<StopSignal> {
        tokio::select! {
            received = self.interrupt.recv() => received.map(|()| StopSignal::Interrupt),
            received = self.terminate.recv() => received.map(|()| StopSignal::Terminate),
            received = self.hang_up.recv() => received.map(|()| StopSignal::HangUp),
        }
    }

    #[cfg(not(unix))]
    pub fn listen() -> anyhow::Result<Self> {
        Ok(StopSignals {})
    }

    #[cfg(not(unix))]
    async fn next(&mut self) -> Option<StopSignal> {
        tokio::signal::ctrl_c()
            .await
            .ok()
            .map(|()| StopSignal::Interrupt)
    }
}

/// Calls `stop` on the first stop signal and exits at once on a second one; returns the signal
/// that stopped the work, once one has. `cadre exec` and `cadre supervisor` stop this one way.
pub fn stop_on_signals(
    mut signals: StopSignals,
    stop: impl Fn() + Send + 'static,
) -> std::sync::Arc<std::sync::OnceLock<StopSignal>> {
    let stopped_by = std::sync::Arc::new(std::sync::OnceLock::new());
    let first = stopped_by.clone();
    tokio::spawn(async move {
        // A repeat within a moment is the same keypress delivered twice (once by the terminal,
        // once by a wrapper such as the npm launcher that forwards it), not a second request.
        let mut first_at: Option<std::time::Instant> = None;
        while let Some(signal) = signals.next().await {
            match first_at {
                None => {
                    first_at = Some(std::time::Instant::now());
                    let _ = first.set(signal);
                    stop();
                }
                // The commands still die with cadre (see the sandbox's death guard).
                Some(at) if at.elapsed() > std::time::Duration::from_millis(500) => {
                    std::process::exit(i32::from(signal.exit_status()));
                }
                Some(_) => {}
            }
        }
    });
    stopped_by
}
