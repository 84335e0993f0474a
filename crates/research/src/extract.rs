//! Main-content extraction: HTML (boilerplate dropped, structure kept), Markdown and plain text
//! become titled blocks, then passages with stable ids. An extraction that finds no text says
//! so; it is never passed on as content.

use crate::text::squash_whitespace;
use scraper::{ElementRef, Html, Node, Selector};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// What a block of extracted text was in the source.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum BlockKind {
    Heading,
    Paragraph,
    ListItem,
    Code,
    Quote,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Block {
    pub kind: BlockKind,
    pub text: String,
}

/// The main content of one document and what it says about itself.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Extracted {
    pub title: Option<String>,
    /// `<link rel="canonical">`, as written (may be relative).
    pub canonical_url: Option<String>,
    /// Publication date as the page states it (`article:published_time`, `<time datetime>`).
    pub published: Option<String>,
    pub author: Option<String>,
    pub blocks: Vec<Block>,
}

impl Extracted {
    /// The extracted text: blocks separated by blank lines. Passages and quotes are slices of it.
    pub fn text(&self) -> String {
        self.blocks
            .iter()
            .map(|b| b.text.as_str())
            .collect::<Vec<_>>()
            .join("\n\n")
    }

    pub fn word_count(&self) -> usize {
        self.blocks
            .iter()
            .map(|b| b.text.split_whitespace().count())
            .sum()
    }
}

/// Elements whose text is never main content.
const BOILERPLATE: &[&str] = &[
    "nav", "header", "footer", "aside", "script", "style", "noscript", "form", "template", "svg",
    "iframe", "button", "select", "textarea", "input", "label", "dialog", "menu", "head", "object",
];

/// ARIA roles that mark boilerplate regions.
const BOILERPLATE_ROLES: &[&str] = &[
    "navigation",
    "banner",
    "contentinfo",
    "complementary",
    "search",
    "dialog",
];

fn selector(css: &str) -> Selector {
    Selector::parse(css).unwrap_or_else(|_| unreachable!("static selector `{css}` parses"))
}

/// Extracts the main content and metadata of an HTML page.
pub fn extract_html(html: &str) -> Extracted {
    let document = Html::parse_document(html);
    let meta = |css: &str| {
        document
            .select(&selector(css))
            .find_map(|e| e.attr("content").map(squash_whitespace))
            .filter(|s| !s.is_empty())
    };
    let title = document
        .select(&selector("title"))
        .next()
        .map(|e| squash_whitespace(&e.text().collect::<String>()))
        .filter(|s| !s.is_empty())
        .or_else(|| meta(r#"meta[property="og:title"]"#));
    let canonical_url = document
        .select(&selector(r#"link[rel="canonical"]"#))
        .find_map(|e| e.attr("href").map(str::trim).map(str::to_string));
    let published = meta(r#"meta[property="article:published_time"]"#)
        .or_else(|| meta(r#"meta[name="date"]"#))
        .or_else(|| {
            document
                .select(&selector("time[datetime]"))
                .find_map(|e| e.attr("datetime").map(str::to_string))
        });
    let author =
        meta(r#"meta[name="author"]"#).or_else(|| meta(r#"meta[property="article:author"]"#));

    let root = ["main", "article", r#"[role="main"]"#, "body"]
        .iter()
        .find_map(|css| document.select(&selector(css)).next())
        .unwrap_or_else(|| document.root_element());
    let mut walker = BlockWalker::default();
    walker.walk(root);
    walker.flush(BlockKind::Paragraph);
    let title = title.or_else(|| {
        walker
            .blocks
            .iter()
            .find(|b| b.kind == BlockKind::Heading)
            .map(|b| b.text.clone())
    });
    Extracted {
        title,
        canonical_url,
        published,
        author,
        blocks: walker.blocks,
    }
}

#[derive(Default)]
struct BlockWalker {
    blocks: Vec<Block>,
    buffer: String,
}

impl BlockWalker {
    fn flush(&mut self, kind: BlockKind) {
        let text = squash_whitespace(&self.buffer);
        self.buffer.clear();
        if !text.is_empty() {
            self.blocks.push(Block { kind, text });
        }
    }

    fn walk(&mut self, element: ElementRef<'_>) {
        for child in element.children() {
            match child.value() {
                Node::Text(text) => self.buffer.push_str(text),
                Node::Element(_) => {
                    if let Some(child) = ElementRef::wrap(child) {
                        self.element(child);
                    }
                }
                _ => {}
            }
        }
    }

    fn element(&mut self, element: ElementRef<'_>) {
        let name = element.value().name();
        if BOILERPLATE.contains(&name)
            || element
                .attr("role")
                .is_some_and(|r| BOILERPLATE_ROLES.contains(&r))
            || element.attr("hidden").is_some()
            || element.attr("aria-hidden") == Some("true")
        {
            return;
        }
        let kind = match name {
            "h1" | "h2" | "h3" | "h4" | "h5" | "h6" => Some(BlockKind::Heading),
            "li" | "dt" | "dd" => Some(BlockKind::ListItem),
            "pre" => {
                self.flush(BlockKind::Paragraph);
                let code: String = element.text().collect();
                let code = code.trim_matches('\n').trim_end();
                if !code.trim().is_empty() {
                    self.blocks.push(Block {
                        kind: BlockKind::Code,
                        text: code.to_string(),
                    });
                }
                return;
            }
            "blockquote" => Some(BlockKind::Quote),
            "p" | "div" | "section" | "article" | "main" | "table" | "tr" | "ul" | "ol" | "dl"
            | "figure" | "figcaption" | "details" | "summary" | "body" | "td" | "th" => {
                Some(BlockKind::Paragraph)
            }
            "br" => {
                self.buffer.push(' ');
                None
            }
            // Inline code keeps its marks, so sentences are never cut inside it.
            "code" => {
                self.buffer.push('`');
                self.walk(element);
                self.buffer.push('`');
                return;
            }
            _ => None,
        };
        match kind {
            Some(kind) => {
                self.flush(BlockKind::Paragraph);
                self.walk(element);
                self.flush(kind);
            }
            None => self.walk(element),
        }
    }
}

/// Extracts Markdown: `#` lines become headings, fenced code stays verbatim, other paragraphs
/// are joined into single lines.
pub fn extract_markdown(text: &str) -> Extracted {
    let mut blocks = Vec::new();
    let mut paragraph = String::new();
    let mut code: Option<String> = None;
    let flush = |paragraph: &mut String, blocks: &mut Vec<Block>| {
        let text = squash_whitespace(paragraph);
        paragraph.clear();
        if !text.is_empty() {
            let (kind, text) = match text.strip_prefix("- ").or_else(|| text.strip_prefix("* ")) {
                Some(item) => (BlockKind::ListItem, item.to_string()),
                None => (BlockKind::Paragraph, text),
            };
            blocks.push(Block { kind, text });
        }
    };
    for line in text.lines() {
        if let Some(body) = code.as_mut() {
            if line.trim_start().starts_with("```") {
                let body = code.take().unwrap_or_default();
                if !body.trim().is_empty() {
                    blocks.push(Block {
                        kind: BlockKind::Code,
                        text: body.trim_end().to_string(),
                    });
                }
            } else {
                body.push_str(line);
                body.push('\n');
            }
            continue;
        }
        let trimmed = line.trim();
        if trimmed.starts_with("```") {
            flush(&mut paragraph, &mut blocks);
            code = Some(String::new());
        } else if trimmed.starts_with('#') {
            flush(&mut paragraph, &mut blocks);
            let heading = squash_whitespace(trimmed.trim_start_matches('#'));
            if !heading.is_empty() {
                blocks.push(Block {
                    kind: BlockKind::Heading,
                    text: heading,
                });
            }
        } else if trimmed.is_empty() || trimmed.starts_with("- ") || trimmed.starts_with("* ") {
            flush(&mut paragraph, &mut blocks);
            paragraph.push_str(trimmed);
        } else {
            paragraph.push(' ');
            paragraph.push_str(trimmed);
        }
    }
    flush(&mut paragraph, &mut blocks);
    if let Some(body) = code.filter(|b| !b.trim().is_empty()) {
        blocks.push(Block {
            kind: BlockKind::Code,
            text: body.trim_end().to_string(),
        });
    }
    let title = blocks
        .iter()
        .find(|b| b.kind == BlockKind::Heading)
        .map(|b| b.text.clone());
    Extracted {
        title,
        blocks,
        ..Extracted::default()
    }
}

/// Extracts plain text or source code: blank-line separated blocks. Source code keeps its lines.
pub fn extract_plain(text: &str, is_code: bool) -> Extracted {
    let blocks = text
        .split("\n\n")
        .filter_map(|chunk| {
            let text = if is_code {
                chunk.trim_matches('\n').trim_end().to_string()
            } else {
                squash_whitespace(chunk)
            };
            (!text.trim().is_empty()).then_some(Block {
                kind: if is_code {
                    BlockKind::Code
                } else {
                    BlockKind::Paragraph
                },
                text,
            })
        })
        .collect();
    Extracted {
        blocks,
        ..Extracted::default()
    }
}

/// A slice of a source's extracted text, the unit that is ranked and quoted.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Passage {
    /// Stable: a hash of the source's canonical URL and the passage's position.
    pub id: String,
    /// The heading the passage sits under, if any.
    pub heading: Option<String>,
    /// Verbatim slice of the extracted text.
    pub text: String,
}

/// Passages aim for this many words; a heading always starts a new one.
const PASSAGE_WORDS: usize = 90;

/// Splits extracted blocks into passages whose texts are slices of [`Extracted::text`].
pub fn passages(source_key: &str, extracted: &Extracted) -> Vec<Passage> {
    let mut out = Vec::new();
    let mut current: Vec<&str> = Vec::new();
    let mut words = 0;
    let mut heading: Option<String> = None;
    let emit = |blocks: &mut Vec<&str>, heading: &Option<String>, out: &mut Vec<Passage>| {
        if blocks.is_empty() {
            return;
        }
        let text = blocks.join("\n\n");
        blocks.clear();
        let position = out.len();
        out.push(Passage {
            id: passage_id(source_key, position),
            heading: heading.clone(),
            text,
        });
    };
    for block in &extracted.blocks {
        let block_words = block.text.split_whitespace().count();
        if block.kind == BlockKind::Heading {
            emit(&mut current, &heading, &mut out);
            words = 0;
            heading = Some(block.text.clone());
        } else if words > 0 && words + block_words > PASSAGE_WORDS * 3 / 2 {
            emit(&mut current, &heading, &mut out);
            words = 0;
        }
        current.push(&block.text);
        words += block_words;
        if words >= PASSAGE_WORDS {
            emit(&mut current, &heading, &mut out);
            words = 0;
        }
    }
    emit(&mut current, &heading, &mut out);
    out
}

pub fn passage_id(source_key: &str, position: usize) -> String {
    let digest = Sha256::digest(format!("{source_key}#{position}").as_bytes());
    hex::encode(&digest[..8])
}

#[cfg(test)]
mod tests {
    use super::*;

    const PAGE: &str = r#"<!doctype html><html><head><title> Ownership  in Rust </title>
        <link rel="canonical" href="https://example.com/ownership">
        <meta name="author" content="Ferris Crab">
        <meta property="article:published_time" content="2024-05-01T10:00:00Z">
        <style>.x{color:red}</style><script>var tracking = 1;</script></head>
        <body><header><a href="/">Home</a> Subscribe to our newsletter</header>
        <nav><ul><li>Menu item</li></ul></nav>
        <main><h1>Ownership</h1><p>Each value in Rust has   a single owner.</p>
        <ul><li>Moves transfer ownership.</li><li>Borrows do <em>not</em>.</li></ul>
        <pre><code>let s = String::new();
let t = s;</code></pre>
        <form>Search this site</form><aside>Related posts</aside></main>
        <footer>Copyright 2024</footer></body></html>"#;

    #[test]
    fn html_keeps_content_and_drops_boilerplate() {
        let doc = extract_html(PAGE);
        assert_eq!(doc.title.as_deref(), Some("Ownership in Rust"));
        assert_eq!(
            doc.canonical_url.as_deref(),
            Some("https://example.com/ownership")
        );
        assert_eq!(doc.author.as_deref(), Some("Ferris Crab"));
        assert_eq!(doc.published.as_deref(), Some("2024-05-01T10:00:00Z"));
        let text = doc.text();
        for kept in [
            "Ownership",
            "Each value in Rust has a single owner.",
            "Borrows do not.",
            "let t = s;",
        ] {
            assert!(text.contains(kept), "missing {kept:?} in {text:?}");
        }
        for dropped in [
            "newsletter",
            "Menu item",
            "Search this site",
            "Related posts",
            "Copyright",
            "tracking",
            "color",
        ] {
            assert!(!text.contains(dropped), "kept boilerplate {dropped:?}");
        }
        assert_eq!(doc.blocks[0].kind, BlockKind::Heading);
        assert!(
            doc.blocks
                .iter()
                .any(|b| b.kind == BlockKind::Code && b.text.contains('\n'))
        );
    }

    #[test]
    fn empty_pages_extract_nothing() {
        assert!(
            extract_html("<html><body><nav>only nav</nav><script>x()</script></body></html>")
                .blocks
                .is_empty()
        );
        assert!(extract_html("").blocks.is_empty());
    }

    #[test]
    fn markdown_blocks() {
        let doc = extract_markdown(
            "# Title\n\nSome text\nwrapped here.\n\n- item one\n- item two\n\n```\ncode\n```\n",
        );
        assert_eq!(doc.title.as_deref(), Some("Title"));
        let texts: Vec<&str> = doc.blocks.iter().map(|b| b.text.as_str()).collect();
        assert_eq!(
            texts,
            [
                "Title",
                "Some text wrapped here.",
                "item one",
                "item two",
                "code"
            ]
        );
    }

    #[test]
    fn passages_are_slices_with_stable_ids() {
        let doc = extract_html(PAGE);
        let text = doc.text();
        let a = passages("https://example.com/ownership", &doc);
        let b = passages("https://example.com/ownership", &doc);
        assert_eq!(a, b);
        assert!(!a.is_empty());
        assert!(a.iter().all(|p| text.contains(&p.text)));
        let other = passages("https://example.org/other", &doc);
        assert_ne!(a[0].id, other[0].id);
    }
}
