//! Incremental parser for server-sent events (the `text/event-stream` format).
//!
//! Bytes arrive in arbitrary chunks: a line, a UTF-8 character or a `\r\n` pair may be split
//! across two of them, so the parser keeps whatever is incomplete until more arrives. Lines end in
//! `\n`, `\r\n` or a lone `\r`; `data:` lines of one event are joined with `\n`; lines starting with
//! `:` are comments; `id:` and `retry:` are accepted and ignored (a model answer is never resumed).

/// One dispatched event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SseEvent {
    /// The `event:` field, when the server sent one.
    pub event: Option<String>,
    /// The `data:` lines joined with `\n`.
    pub data: String,
}

#[derive(Debug, Default)]
pub struct SseParser {
    /// Bytes not yet forming a complete line.
    pending: Vec<u8>,
    /// The previous chunk ended in `\r`, so a leading `\n` in the next one belongs to it.
    skip_leading_newline: bool,
    event: Option<String>,
    data: String,
    has_data: bool,
}

impl SseParser {
    pub fn new() -> Self {
        Self::default()
    }

    /// Feeds a chunk and returns every event it completes.
    pub fn push(&mut self, chunk: &[u8]) -> Vec<SseEvent> {
        let mut chunk = chunk;
        if self.skip_leading_newline && !chunk.is_empty() {
            if chunk[0] == b'\n' {
                chunk = &chunk[1..];
            }
            self.skip_leading_newline = false;
        }
        let mut events = Vec::new();
        let mut start = 0;
        let mut index = 0;
        while index < chunk.len() {
            match chunk[index] {
                b'\n' | b'\r' => {
                    let is_cr = chunk[index] == b'\r';
                    self.pending.extend_from_slice(&chunk[start..index]);
                    let line = std::mem::take(&mut self.pending);
                    if let Some(event) = self.process_line(&line) {
                        events.push(event);
                    }
                    index += 1;
                    if is_cr {
                        if index == chunk.len() {
                            self.skip_leading_newline = true;
                        } else if chunk[index] == b'\n' {
                            index += 1;
                        }
                    }
                    start = index;
                }
                _ => index += 1,
            }
        }
        self.pending.extend_from_slice(&chunk[start..]);
        events
    }

    /// Called at the end of the stream: an event whose data lines all arrived is dispatched even
    /// without the closing blank line (some servers omit it); a partial last line is dropped.
    pub fn finish(&mut self) -> Option<SseEvent> {
        self.pending.clear();
        self.dispatch()
    }

    fn process_line(&mut self, line: &[u8]) -> Option<SseEvent> {
        if line.is_empty() {
            return self.dispatch();
        }
        if line[0] == b':' {
            return None;
        }
        let line = String::from_utf8_lossy(line);
        let (field, value) = match line.find(':') {
            Some(colon) => {
                let value = &line[colon + 1..];
                (&line[..colon], value.strip_prefix(' ').unwrap_or(value))
            }
            None => (&line[..], ""),
        };
        match field {
            "data" => {
                if self.has_data {
                    self.data.push('\n');
                }
                self.data.push_str(value);
                self.has_data = true;
            }
            "event" => self.event = Some(value.to_string()),
            _ => {}
        }
        None
    }

    fn dispatch(&mut self) -> Option<SseEvent> {
        let event = self.event.take();
        if !self.has_data {
            return None;
        }
        self.has_data = false;
        Some(SseEvent {
            event,
            data: std::mem::take(&mut self.data),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn parse_all(chunks: &[&[u8]]) -> Vec<SseEvent> {
        let mut parser = SseParser::new();
        let mut events = Vec::new();
        for chunk in chunks {
            events.extend(parser.push(chunk));
        }
        events.extend(parser.finish());
        events
    }

    fn event(name: Option<&str>, data: &str) -> SseEvent {
        SseEvent {
            event: name.map(Into::into),
            data: data.into(),
        }
    }

    #[test]
    fn parses_events_with_names_comments_and_multiline_data() {
        let stream = b": keep-alive\nevent: response.created\ndata: {\"a\":1}\n\ndata: line one\ndata:line two\n\n";
        assert_eq!(
            parse_all(&[stream]),
            vec![
                event(Some("response.created"), "{\"a\":1}"),
                event(None, "line one\nline two"),
            ]
        );
    }

    #[test]
    fn accepts_crlf_and_lone_cr_line_endings() {
        let stream = b"event: x\r\ndata: 1\r\n\r\ndata: 2\r\rdata: 3\n\n";
        assert_eq!(
            parse_all(&[stream]),
            vec![event(Some("x"), "1"), event(None, "2"), event(None, "3")]
        );
    }

    #[test]
    fn crlf_split_across_chunks_is_one_line_ending() {
        assert_eq!(
            parse_all(&[b"data: 1\r", b"\n\r", b"\ndata: 2\r\n\r\n"]),
            vec![event(None, "1"), event(None, "2")]
        );
    }

    #[test]
    fn event_without_data_is_not_dispatched_and_its_name_does_not_leak() {
        assert_eq!(
            parse_all(&[b"event: ping\n\ndata: x\n\n"]),
            vec![event(None, "x")]
        );
    }

    #[test]
    fn final_event_without_blank_line_is_dispatched_but_a_partial_line_is_not() {
        assert_eq!(parse_all(&[b"data: [DONE]\n"]), vec![event(None, "[DONE]")]);
        assert_eq!(parse_all(&[b"data: {\"trunc"]), vec![]);
    }

    #[test]
    fn multibyte_characters_split_across_chunks_survive() {
        let text = "data: héllo ✓\n\n".as_bytes();
        let (first, second) = text.split_at(8);
        assert_eq!(parse_all(&[first, second]), vec![event(None, "héllo ✓")]);
    }

    fn arbitrary_stream() -> impl Strategy<Value = Vec<u8>> {
        let data = "[a-zA-Z0-9 {}\":,é✓]{0,20}";
        let line_ending = prop_oneof![Just("\n"), Just("\r\n"), Just("\r")];
        let event = (
            proptest::option::of("[a-z.]{1,12}"),
            proptest::collection::vec(data, 1..4),
            proptest::bool::ANY,
            line_ending,
        )
            .prop_map(|(name, lines, comment, nl)| {
                let mut text = String::new();
                if comment {
                    text.push_str(&format!(": comment{nl}"));
                }
                if let Some(name) = name {
                    text.push_str(&format!("event: {name}{nl}"));
                }
                for line in lines {
                    text.push_str(&format!("data: {line}{nl}"));
                }
                text.push_str(nl);
                text
            });
        proptest::collection::vec(event, 0..8).prop_map(|events| events.concat().into_bytes())
    }

    proptest! {
        #[test]
        fn arbitrary_splitting_yields_the_same_events(
            stream in arbitrary_stream(),
            cuts in proptest::collection::vec(any::<usize>(), 0..12),
        ) {
            let whole = parse_all(&[&stream]);
            let mut positions: Vec<usize> = cuts
                .into_iter()
                .map(|cut| if stream.is_empty() { 0 } else { cut % (stream.len() + 1) })
                .collect();
            positions.sort_unstable();
            let mut chunks: Vec<&[u8]> = Vec::new();
            let mut previous = 0;
            for position in positions {
                chunks.push(&stream[previous..position]);
                previous = position;
            }
            chunks.push(&stream[previous..]);
            prop_assert_eq!(parse_all(&chunks), whole);
        }
    }
}
