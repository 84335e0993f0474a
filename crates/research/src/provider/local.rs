//! The `local` provider: BM25 over passages of the source code, Markdown, text and HTML files
//! under chosen directories. The index lives in one file under the cache directory, keyed by
//! path with modification time and size, so later runs re-read only files that changed.

use super::{SearchHit, SearchProvider};
use crate::bm25::{Bm25Index, weighted_terms};
use crate::error::ResearchError;
use crate::extract::{Extracted, extract_html, extract_markdown, extract_plain, passages};
use crate::fetch::{ContentKind, kind_of_path, looks_binary};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::UNIX_EPOCH;
use url::Url;

/// Files larger than this are left out of the index.
const MAX_FILE_BYTES: u64 = 5 * 1024 * 1024;
const INDEX_VERSION: u32 = 2;

#[derive(Debug, Clone, Serialize, Deserialize)]
struct FileEntry {
    modified_ns: u128,
    size: u64,
    title: Option<String>,
    passages: Vec<String>,
}

#[derive(Debug, Default, Serialize, Deserialize)]
struct IndexFile {
    version: u32,
    roots: Vec<PathBuf>,
    files: BTreeMap<PathBuf, FileEntry>,
}

/// What opening the index did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct IndexStats {
    /// Files in the index now.
    pub files: usize,
    /// Files read this time (new or changed since the last run).
    pub reread: usize,
    /// Files dropped because they are gone.
    pub removed: usize,
    pub passages: usize,
}

/// A searchable index over local directories.
pub struct LocalIndex {
    roots: Vec<PathBuf>,
    files: Vec<(PathBuf, FileEntry)>,
    /// (file, passage) for each BM25 document.
    owners: Vec<(usize, usize)>,
    bm25: Bm25Index,
}

/// Reads a file into the text the index and the fetcher agree on.
pub fn extract_by_kind(kind: ContentKind, text: &str) -> Extracted {
    match kind {
        ContentKind::Html => extract_html(text),
        ContentKind::Markdown => extract_markdown(text),
        ContentKind::PlainText => extract_plain(text, false),
        ContentKind::SourceCode => extract_plain(text, true),
    }
}

fn modified_ns(metadata: &std::fs::Metadata) -> u128 {
    metadata
        .modified()
        .ok()
        .and_then(|t| t.duration_since(UNIX_EPOCH).ok())
        .map_or(0, |d| d.as_nanos())
}

fn read_entry(path: &Path, kind: ContentKind, metadata: &std::fs::Metadata) -> FileEntry {
    let mut entry = FileEntry {
        modified_ns: modified_ns(metadata),
        size: metadata.len(),
        title: None,
        passages: Vec::new(),
    };
    let Ok(bytes) = std::fs::read(path) else {
        return entry;
    };
    if looks_binary(&bytes) {
        return entry;
    }
    let text = String::from_utf8_lossy(&bytes);
    let extracted = extract_by_kind(kind, &text);
    let key = Url::from_file_path(path)
        .map(|u| u.to_string())
        .unwrap_or_default();
    entry.title = extracted.title.clone();
    entry.passages = passages(&key, &extracted)
        .into_iter()
        .map(|p| p.text)
        .collect();
    entry
}

impl LocalIndex {
    /// Opens (building or refreshing) the index over `roots`, stored under `index_dir`.
    pub fn open(roots: &[PathBuf], index_dir: &Path) -> Result<(Self, IndexStats), ResearchError> {
        if roots.is_empty() {
            return Err(ResearchError::NoLocalPaths);
        }
        let mut canonical_roots = Vec::new();
        for root in roots {
            let canonical = std::fs::canonicalize(root)
                .and_then(|p| {
                    if p.is_dir() {
                        Ok(p)
                    } else {
                        Err(std::io::Error::other("not a directory"))
                    }
                })
                .map_err(|source| ResearchError::BadLocalPath {
                    path: root.clone(),
                    source,
                })?;
            canonical_roots.push(canonical);
        }
        canonical_roots.sort();
        canonical_roots.dedup();
        let index_path = index_dir.join(format!("{}.json", roots_digest(&canonical_roots)));
        let mut stored: IndexFile = std::fs::read(&index_path)
            .ok()
            .and_then(|bytes| serde_json::from_slice(&bytes).ok())
            .filter(|f: &IndexFile| f.version == INDEX_VERSION)
            .unwrap_or_default();
        let mut stats = IndexStats::default();
        let mut fresh: BTreeMap<PathBuf, FileEntry> = BTreeMap::new();
        let mut walker = ignore::WalkBuilder::new(&canonical_roots[0]);
        for root in &canonical_roots[1..] {
            walker.add(root);
        }
        for entry in walker.build().flatten() {
            let path = entry.path();
            let Some(kind) = kind_of_path(path) else {
                continue;
            };
            let Ok(metadata) = entry.metadata() else {
                continue;
            };
            if !metadata.is_file() || metadata.len() > MAX_FILE_BYTES {
                continue;
            }
            let unchanged = stored.files.remove(path).filter(|old| {
                old.size == metadata.len() && old.modified_ns == modified_ns(&metadata)
            });
            let file_entry = match unchanged {
                Some(old) => old,
                None => {
                    stats.reread += 1;
                    read_entry(path, kind, &metadata)
                }
            };
            fresh.insert(path.to_path_buf(), file_entry);
        }
        stats.removed = stored.files.len();
        stats.files = fresh.len();
        let file = IndexFile {
            version: INDEX_VERSION,
            roots: canonical_roots.clone(),
            files: fresh,
        };
        if stats.reread > 0 || stats.removed > 0 || !index_path.exists() {
            write_atomically(&index_path, &file)?;
        }
        let files: Vec<(PathBuf, FileEntry)> = file.files.into_iter().collect();
        let mut owners = Vec::new();
        let mut documents = Vec::new();
        for (f, (_, entry)) in files.iter().enumerate() {
            for (p, passage) in entry.passages.iter().enumerate() {
                owners.push((f, p));
                documents.push(crate::text::terms(passage));
            }
        }
        stats.passages = owners.len();
        let bm25 = Bm25Index::new(documents.iter());
        Ok((
            LocalIndex {
                roots: canonical_roots,
                files,
                owners,
                bm25,
            },
            stats,
        ))
    }

    pub fn roots(&self) -> &[PathBuf] {
        &self.roots
    }

    /// The best files for `query`, each hit carrying the file's best passage as its snippet.
    pub fn search(&self, query: &str, limit: usize) -> Vec<SearchHit> {
        let terms = weighted_terms(query, 1.0);
        let mut best: BTreeMap<usize, (f64, usize)> = BTreeMap::new();
        for (doc, score) in self.bm25.scores(&terms).into_iter().enumerate() {
            if score <= 0.0 {
                continue;
            }
            let (file, passage) = self.owners[doc];
            let slot = best.entry(file).or_insert((score, passage));
            if score > slot.0 {
                *slot = (score, passage);
            }
        }
        let mut ranked: Vec<(usize, f64, usize)> =
            best.into_iter().map(|(f, (s, p))| (f, s, p)).collect();
        ranked.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
        ranked
            .into_iter()
            .take(limit)
            .filter_map(|(f, _, p)| {
                let (path, entry) = &self.files[f];
                let url = Url::from_file_path(path).ok()?;
                let title = entry
                    .title
                    .clone()
                    .unwrap_or_else(|| self.display_path(path));
                let snippet: String = entry.passages[p].chars().take(300).collect();
                Some(SearchHit {
                    url: url.to_string(),
                    title,
                    snippet,
                })
            })
            .collect()
    }

    fn display_path(&self, path: &Path) -> String {
        self.roots
            .iter()
            .find_map(|root| path.strip_prefix(root).ok())
            .unwrap_or(path)
            .display()
            .to_string()
    }
}

fn roots_digest(roots: &[PathBuf]) -> String {
    let mut hasher = Sha256::new();
    for root in roots {
        hasher.update(root.to_string_lossy().as_bytes());
        hasher.update([0]);
    }
    hex::encode(&hasher.finalize()[..8])
}

fn write_atomically(path: &Path, file: &IndexFile) -> Result<(), ResearchError> {
    let error = |source| ResearchError::Index {
        path: path.to_path_buf(),
        source,
    };
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent).map_err(error)?;
    }
    let bytes = serde_json::to_vec(file).map_err(|e| error(std::io::Error::other(e)))?;
    let temporary = path.with_extension("json.tmp");
    std::fs::write(&temporary, bytes).map_err(error)?;
    std::fs::rename(&temporary, path).map_err(error)
}

/// A local file's family key: `local:<root>/<top-level directory>` for a file inside a directory
/// of a searched path, `local:<root>` for a file directly in it. Files under one top-level
/// directory (one component, one team's notes, one vendored project) speak with one voice.
pub fn local_site(roots: &[PathBuf], file: &Path) -> Option<String> {
    let (root, rest) = roots.iter().find_map(|root| {
        let canonical = std::fs::canonicalize(root).unwrap_or_else(|_| root.clone());
        file.strip_prefix(&canonical)
            .or_else(|_| file.strip_prefix(root))
            .ok()
            .map(|rest| (root, rest.to_path_buf()))
    })?;
    let root_name = root.file_name().map_or_else(
        || root.display().to_string(),
        |n| n.to_string_lossy().into_owned(),
    );
    let mut components = rest.components();
    let first = components.next()?;
    Some(if components.next().is_some() {
        format!("local:{root_name}/{}", first.as_os_str().to_string_lossy())
    } else {
        format!("local:{root_name}")
    })
}

/// The `local` search provider.
pub struct LocalProvider {
    index: LocalIndex,
}

impl LocalProvider {
    pub fn new(index: LocalIndex) -> Self {
        LocalProvider { index }
    }
}

#[async_trait::async_trait]
impl SearchProvider for LocalProvider {
    fn name(&self) -> &str {
        "local"
    }
    fn needs_network(&self) -> bool {
        false
    }
    fn site_of(&self, url: &url::Url) -> Option<String> {
        local_site(self.index.roots(), &url.to_file_path().ok()?)
    }
    async fn search(&self, query: &str, limit: usize) -> Result<Vec<SearchHit>, ResearchError> {
        Ok(self.index.search(query, limit))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn index_is_incremental() {
        let docs = tempfile::tempdir().unwrap();
        let cache = tempfile::tempdir().unwrap();
        std::fs::write(
            docs.path().join("a.md"),
            "# Ownership\n\nEach value has one owner.\n",
        )
        .unwrap();
        std::fs::write(docs.path().join("b.txt"), "Pasta needs salted water.\n").unwrap();
        std::fs::write(docs.path().join("c.bin"), [0u8, 1, 2]).unwrap();
        let roots = vec![docs.path().to_path_buf()];

        let (index, stats) = LocalIndex::open(&roots, cache.path()).unwrap();
        assert_eq!((stats.files, stats.reread, stats.removed), (2, 2, 0));
        let hits = index.search("who owns a value", 5);
        assert_eq!(hits.len(), 1);
        assert!(hits[0].url.ends_with("/a.md") && hits[0].url.starts_with("file://"));
        assert_eq!(hits[0].title, "Ownership");

        let (_, stats) = LocalIndex::open(&roots, cache.path()).unwrap();
        assert_eq!((stats.files, stats.reread), (2, 0));

        std::fs::write(
            docs.path().join("b.txt"),
            "Pasta needs salted water and an owner.\n",
        )
        .unwrap();
        std::fs::remove_file(docs.path().join("a.md")).unwrap();
        let (index, stats) = LocalIndex::open(&roots, cache.path()).unwrap();
        assert_eq!((stats.files, stats.reread, stats.removed), (1, 1, 1));
        assert!(index.search("owner", 5)[0].url.ends_with("/b.txt"));
    }

    #[test]
    fn local_families_follow_top_level_directories() {
        let roots = vec![PathBuf::from("/srv/docs")];
        let site = |p: &str| local_site(&roots, Path::new(p));
        assert_eq!(
            site("/srv/docs/ops/deploy/a.md").as_deref(),
            Some("local:docs/ops")
        );
        assert_eq!(
            site("/srv/docs/ops/b.md").as_deref(),
            Some("local:docs/ops")
        );
        assert_eq!(
            site("/srv/docs/api/c.md").as_deref(),
            Some("local:docs/api")
        );
        assert_eq!(site("/srv/docs/README.md").as_deref(), Some("local:docs"));
        assert_eq!(site("/elsewhere/x.md"), None);
    }

    #[test]
    fn missing_directory_is_a_clear_error() {
        let cache = tempfile::tempdir().unwrap();
        let err = LocalIndex::open(&[PathBuf::from("/definitely/not/here")], cache.path())
            .err()
            .unwrap();
        assert!(err.to_string().contains("/definitely/not/here"));
    }
}
