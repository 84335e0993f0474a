//! The record envelope: how an event becomes one sealed JSON line, and how a line is read back.

use crate::config::SessionIds;
use crate::event::AuditEvent;
use crate::hash_chain::seal;
use crate::redaction::Redactor;
use chrono::{DateTime, SecondsFormat, Utc};
use serde::{Deserialize, Serialize};

/// The version of the record schema written by this crate (the `v` member). Documented in
/// `docs/audit-log.md`; bumped whenever a member changes meaning or a required member is added.
pub const SCHEMA_VERSION: u32 = 1;

/// One record as read back from the log.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct AuditRecord {
    pub v: u32,
    pub ts: DateTime<Utc>,
    pub seq: u64,
    pub session_id: String,
    pub agent_id: String,
    #[serde(default)]
    pub parent_agent_id: Option<String>,
    #[serde(flatten)]
    pub event: AuditEvent,
    pub prev: String,
    pub hash: String,
}

impl AuditRecord {
    /// Parses one line of a log file (without its newline).
    pub fn parse(line: &str) -> Result<AuditRecord, serde_json::Error> {
        serde_json::from_str(line)
    }
}

#[derive(Serialize)]
struct Envelope<'a> {
    v: u32,
    ts: &'a str,
    seq: u64,
    session_id: &'a str,
    agent_id: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    parent_agent_id: Option<&'a str>,
}

/// Everything about a record except its place in the chain, already redacted: the part that can
/// be prepared outside the directory lock.
pub(crate) struct PreparedRecord {
    /// `{"v":…,…,"event":"…",…members…` without the closing brace, `prev` or `hash`.
    open_body: String,
}

impl PreparedRecord {
    pub(crate) fn new(
        ts: DateTime<Utc>,
        ids: &SessionIds,
        event: &AuditEvent,
        redactor: &Redactor,
    ) -> Self {
        let ts = ts.to_rfc3339_opts(SecondsFormat::Micros, true);
        let session_id = redactor.redact(&ids.session_id);
        let agent_id = redactor.redact(&ids.agent_id);
        let parent = ids.parent_agent_id.as_deref().map(|p| redactor.redact(p));
        let envelope = Envelope {
            v: SCHEMA_VERSION,
            ts: &ts,
            // The real seq is only known under the lock; `seal_at` splices it in.
            seq: 0,
            session_id: &session_id,
            agent_id: &agent_id,
            parent_agent_id: parent.as_deref(),
        };
        let mut open_body = serde_json::to_string(&envelope).expect("envelope serialises");
        open_body.pop(); // the closing brace
        let mut value = serde_json::to_value(event).expect("audit events serialise");
        redactor.redact_json(&mut value);
        let serde_json::Value::Object(mut members) = value else {
            unreachable!("an internally tagged enum serialises as an object")
        };
        // `event` first, for people reading the file; the other members in map order.
        let name = members
            .remove("event")
            .unwrap_or_else(|| serde_json::Value::from(event.name()));
        open_body.push_str(",\"event\":");
        open_body.push_str(&name.to_string());
        for (key, member) in &members {
            open_body.push(',');
            open_body.push_str(&serde_json::Value::from(key.as_str()).to_string());
            open_body.push(':');
            open_body.push_str(&member.to_string());
        }
        PreparedRecord { open_body }
    }

    /// The sealed line (no newline) for position `seq` after the record hashed `prev`, and its
    /// hash.
    pub(crate) fn seal_at(&self, seq: u64, prev: &str) -> (String, String) {
        // The envelope was serialised with `"seq":0`; it is the only `"seq":` member before the
        // event members, and `find` stops at the first occurrence.
        let seq_at = self
            .open_body
            .find(",\"seq\":0,")
            .expect("envelope has a seq member");
        let mut unsealed = String::with_capacity(self.open_body.len() + 100);
        unsealed.push_str(&self.open_body[..seq_at]);
        unsealed.push_str(",\"seq\":");
        unsealed.push_str(&seq.to_string());
        unsealed.push_str(&self.open_body[seq_at + ",\"seq\":0".len()..]);
        unsealed.push_str(",\"prev\":\"");
        unsealed.push_str(prev);
        unsealed.push_str("\"}");
        seal(&unsealed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::event::{FileChange, FileChangeKind};
    use crate::hash_chain::{GENESIS_HASH, computed_hash};
    use crate::redaction::RedactionConfig;

    #[test]
    fn a_sealed_line_parses_back_to_the_same_event() {
        let redactor = Redactor::new(&RedactionConfig::default());
        let event = AuditEvent::FileChange(FileChange::new(
            FileChangeKind::Modify,
            ["src/seq.rs"],
            Some(12),
        ));
        let ids = SessionIds {
            parent_agent_id: Some("a0".into()),
            ..SessionIds::new("s1", "a1")
        };
        let prepared = PreparedRecord::new(Utc::now(), &ids, &event, &redactor);
        let (line, hash) = prepared.seal_at(42, GENESIS_HASH);
        assert!(line.starts_with("{\"v\":1,\"ts\":\""), "{line}");
        assert_eq!(computed_hash(&line).as_deref(), Some(hash.as_str()));
        let record = AuditRecord::parse(&line).unwrap();
        assert_eq!(record.seq, 42);
        assert_eq!(record.prev, GENESIS_HASH);
        assert_eq!(record.hash, hash);
        assert_eq!(record.parent_agent_id.as_deref(), Some("a0"));
        assert_eq!(record.event, event);
    }
}
