//! How a session's events are shown: readable text or JSONL.

pub mod failure;
pub mod human;
pub mod jsonl;
pub mod supervisor_jsonl;

use cadre_protocol::Event;
use std::time::Duration;

pub trait Renderer {
    fn render(&mut self, event: &Event);
    /// Called about once a second while no event arrives; `idle` is the time since the last.
    fn idle(&mut self, _idle: Duration) {}
    fn finish(&mut self) {}
}
