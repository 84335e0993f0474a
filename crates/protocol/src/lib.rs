//! The language spoken between cadre's core and everything around it.
//!
//! Front ends (the `exec` printer, the TUI, the MCP server) send [`Op`]s into a session and read
//! [`Event`]s out of it; the model crate and the core share the conversation [`items`]. This crate
//! holds plain serde types only: no I/O, no async, no knowledge of how a model is called or how a
//! command is sandboxed, so any front end can depend on it without pulling in the engine.
#![deny(clippy::print_stdout, clippy::print_stderr)]

pub mod duration;
pub mod events;
pub mod items;
pub mod network;
pub mod ops;
pub mod security;

pub use events::*;
pub use items::*;
pub use network::DomainAllowlist;
pub use ops::*;
pub use security::*;
