//! Typed reading of a role file's fields, collecting the notices and naming the field at fault.

use crate::RoleLoadProblem;
use crate::front_matter::{Entry, Value};
use std::path::Path;

/// The fields of one file, taken out one by one; what is left at the end was not understood.
pub(crate) struct Fields<'a> {
    path: &'a Path,
    entries: Vec<Entry>,
    notices: Vec<RoleLoadProblem>,
}

impl<'a> Fields<'a> {
    pub(crate) fn new(path: &'a Path, entries: Vec<Entry>) -> Self {
        Fields {
            path,
            entries,
            notices: Vec::new(),
        }
    }

    pub(crate) fn path(&self) -> &Path {
        self.path
    }

    /// Removes and returns a field's raw value.
    pub(crate) fn take(&mut self, key: &str) -> Option<Value> {
        let index = self.entries.iter().position(|entry| entry.key == key)?;
        Some(self.entries.remove(index).value)
    }

    /// A text field; empty text counts as absent.
    pub(crate) fn text(&mut self, key: &str) -> Result<Option<String>, RoleLoadProblem> {
        match self.take(key) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::Text(text)) => {
                let text = text.trim();
                Ok((!text.is_empty()).then(|| text.to_string()))
            }
            Some(other) => Err(self.fatal(key, &format!("expected text, found {}", other.kind()))),
        }
    }

    /// A list field, given as a list or as one comma-separated string.
    pub(crate) fn list(&mut self, key: &str) -> Result<Option<Vec<String>>, RoleLoadProblem> {
        let items = match self.take(key) {
            None | Some(Value::Null) => return Ok(None),
            Some(Value::Text(text)) => text.split(',').map(str::to_string).collect::<Vec<_>>(),
            Some(Value::List(items)) => items,
            Some(Value::Nested) => {
                return Err(self.fatal(key, "expected a list of names, found a nested structure"));
            }
        };
        Ok(Some(
            items
                .iter()
                .map(|item| item.trim().to_string())
                .filter(|item| !item.is_empty())
                .collect(),
        ))
    }

    /// A positive whole number.
    pub(crate) fn positive_integer(&mut self, key: &str) -> Result<Option<u32>, RoleLoadProblem> {
        match self.text(key)? {
            None => Ok(None),
            Some(text) => match text.parse::<u32>() {
                Ok(number) if number > 0 => Ok(Some(number)),
                _ => Err(self.fatal(
                    key,
                    &format!("expected a positive whole number, found `{text}`"),
                )),
            },
        }
    }

    /// A positive number, fractions allowed.
    pub(crate) fn positive_number(&mut self, key: &str) -> Result<Option<f64>, RoleLoadProblem> {
        match self.text(key)? {
            None => Ok(None),
            Some(text) => match text.parse::<f64>() {
                Ok(number) if number > 0.0 && number.is_finite() => Ok(Some(number)),
                _ => Err(self.fatal(key, &format!("expected a positive number, found `{text}`"))),
            },
        }
    }

    /// Records a non-fatal notice about `field`.
    pub(crate) fn notice(&mut self, field: &str, message: impl Into<String>) {
        self.notices.push(RoleLoadProblem {
            path: self.path.to_path_buf(),
            field: Some(field.to_string()),
            message: message.into(),
            fatal: false,
        });
    }

    /// The problem that makes the file unusable, naming `field`.
    pub(crate) fn fatal(&self, field: &str, message: &str) -> RoleLoadProblem {
        RoleLoadProblem {
            path: self.path.to_path_buf(),
            field: Some(field.to_string()),
            message: message.to_string(),
            fatal: true,
        }
    }

    /// Reports every field not taken as ignored (once each, with `message`) and returns all
    /// notices.
    pub(crate) fn finish(mut self, message: &str) -> Vec<RoleLoadProblem> {
        for entry in std::mem::take(&mut self.entries) {
            self.notice(&entry.key, message);
        }
        self.notices
    }
}
