//! What the two wire formats have in common: a decoder that turns one attempt's server-sent
//! events into [`ModelEvent`]s.

use crate::ModelEvent;
use crate::failure::AttemptFailure;
use crate::sse::SseEvent;

pub trait WireDecoder: Send {
    /// Handles one event, appending what it yields to `out`.
    fn on_event(
        &mut self,
        event: &SseEvent,
        out: &mut Vec<ModelEvent>,
    ) -> Result<(), AttemptFailure>;

    /// Whether the answer is complete (a `Completed` event has been produced), so the rest of the
    /// connection need not be read.
    fn is_complete(&self) -> bool;

    /// Whether everything that matters has arrived, so a connection that then stalls or breaks
    /// can be treated as ended (Chat servers may go quiet after the `finish_reason`).
    fn has_final_content(&self) -> bool {
        self.is_complete()
    }

    /// The connection ended: finish the answer or report it cut off.
    fn on_end(&mut self, out: &mut Vec<ModelEvent>) -> Result<(), AttemptFailure>;
}
