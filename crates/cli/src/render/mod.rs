//! How a session's events are shown: readable text or JSONL.

pub mod failure;
pub mod human;
pub mod jsonl;

use cadre_protocol::Event;

pub trait Renderer {
    fn render(&mut self, event: &Event);
    fn finish(&mut self) {}
}
