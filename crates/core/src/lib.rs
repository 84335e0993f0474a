//! cadre's agent core: a session holds the conversation and its transcript, and its turn loop
//! calls the model, runs the tools the model asks for under the gate (policy, approvals, audit)
//! and the sandbox, and reports everything as protocol events.
//!
//! It composes the model, tools, sandbox, policy and audit crates; front ends talk to it only
//! through [`SessionHandle`] (ops in, events out) and [`Config`]. It never prints and knows
//! nothing of terminals, JSON output formats or argument parsing.
#![deny(clippy::print_stdout, clippy::print_stderr)]

mod approvals;
pub mod audit_sink;
pub mod config;
pub mod context;
pub mod gate;
pub mod model_window;
mod session;
pub mod transcript;

pub use config::{Config, ConfigError, ConfigToml, LoadOptions};
pub use session::{
    ABORTED_CALL_OUTPUT, SessionHandle, SessionOptions, TurnOutcome, new_session_id, spawn,
};

#[derive(Debug, thiserror::Error)]
pub enum CoreError {
    #[error(transparent)]
    Config(#[from] ConfigError),
    #[error(transparent)]
    Model(#[from] cadre_model::ModelError),
    #[error(transparent)]
    Sandbox(#[from] cadre_sandbox::SandboxError),
    #[error(transparent)]
    Transcript(#[from] transcript::TranscriptError),
}
