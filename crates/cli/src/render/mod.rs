//! How a session's events are shown: readable text or JSONL.

pub mod human;
pub mod jsonl;
pub mod supervisor_jsonl;

use cadre_protocol::Event;

pub trait Renderer {
    fn render(&mut self, event: &Event);
    fn finish(&mut self) {}
}
