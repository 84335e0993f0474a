//! The on-disk fetch cache (SQLite): a page fetched within the TTL is served from here, so a
//! repeated run does not touch the network again.

use crate::error::ResearchError;
use rusqlite::{Connection, OptionalExtension, params};
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::Duration;

/// A stored answer to a GET.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CachedPage {
    pub final_url: String,
    pub status: u16,
    pub content_type: String,
    pub body: Vec<u8>,
    pub truncated: bool,
    pub redirects: u32,
    /// Unix seconds.
    pub fetched_at: i64,
}

/// The cache file. Statements are short and local, so they run inline under a mutex rather than
/// on a blocking thread.
pub struct FetchCache {
    path: PathBuf,
    connection: Mutex<Connection>,
    ttl: Duration,
}

impl FetchCache {
    pub fn open(path: &Path, ttl: Duration) -> Result<Self, ResearchError> {
        let error = |reason: String| ResearchError::Cache {
            path: path.to_path_buf(),
            reason,
        };
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).map_err(|e| error(e.to_string()))?;
        }
        let connection = Connection::open(path).map_err(|e| error(e.to_string()))?;
        connection
            .execute_batch(
                "PRAGMA journal_mode=WAL;
                 PRAGMA synchronous=NORMAL;
                 CREATE TABLE IF NOT EXISTS pages (
                     key TEXT PRIMARY KEY,
                     final_url TEXT NOT NULL,
                     status INTEGER NOT NULL,
                     content_type TEXT NOT NULL,
                     body BLOB NOT NULL,
                     truncated INTEGER NOT NULL,
                     redirects INTEGER NOT NULL,
                     fetched_at INTEGER NOT NULL
                 );",
            )
            .map_err(|e| error(e.to_string()))?;
        Ok(FetchCache {
            path: path.to_path_buf(),
            connection: Mutex::new(connection),
            ttl,
        })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The page stored under `key`, if younger than the TTL.
    pub fn get(&self, key: &str) -> Option<CachedPage> {
        let oldest =
            chrono::Utc::now().timestamp() - i64::try_from(self.ttl.as_secs()).unwrap_or(i64::MAX);
        let connection = self.connection.lock().ok()?;
        connection
            .query_row(
                "SELECT final_url, status, content_type, body, truncated, redirects, fetched_at
                 FROM pages WHERE key = ?1 AND fetched_at >= ?2",
                params![key, oldest],
                |row| {
                    Ok(CachedPage {
                        final_url: row.get(0)?,
                        status: row.get(1)?,
                        content_type: row.get(2)?,
                        body: row.get(3)?,
                        truncated: row.get(4)?,
                        redirects: row.get(5)?,
                        fetched_at: row.get(6)?,
                    })
                },
            )
            .optional()
            .ok()
            .flatten()
    }

    /// Stores a page; a failure to store only costs a refetch next time, so it is not an error.
    pub fn put(&self, key: &str, page: &CachedPage) {
        let Ok(connection) = self.connection.lock() else {
            return;
        };
        let result = connection.execute(
            "INSERT OR REPLACE INTO pages
             (key, final_url, status, content_type, body, truncated, redirects, fetched_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
            params![
                key,
                page.final_url,
                page.status,
                page.content_type,
                page.body,
                page.truncated,
                page.redirects,
                page.fetched_at
            ],
        );
        if let Err(err) = result {
            tracing::warn!(%err, key, "could not store a page in the research cache");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stores_and_expires() {
        let dir = tempfile::tempdir().unwrap();
        let cache =
            FetchCache::open(&dir.path().join("c.sqlite3"), Duration::from_secs(3600)).unwrap();
        let page = CachedPage {
            final_url: "http://x/a".into(),
            status: 200,
            content_type: "text/html".into(),
            body: b"<p>hi</p>".to_vec(),
            truncated: false,
            redirects: 1,
            fetched_at: chrono::Utc::now().timestamp(),
        };
        cache.put("x/a", &page);
        assert_eq!(cache.get("x/a"), Some(page.clone()));
        assert_eq!(cache.get("x/b"), None);
        let stale = CachedPage {
            fetched_at: page.fetched_at - 7200,
            ..page
        };
        cache.put("x/a", &stale);
        assert_eq!(cache.get("x/a"), None);
    }
}
