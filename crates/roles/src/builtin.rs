//! The built-in roles: Markdown files in cadre's own format, embedded in the binary.

/// File name and contents of each built-in role, in the order they are listed.
pub(crate) const BUILTIN_ROLE_FILES: [(&str, &str); 8] = [
    ("code-expert.md", include_str!("../roles/code-expert.md")),
    ("researcher.md", include_str!("../roles/researcher.md")),
    ("tester.md", include_str!("../roles/tester.md")),
    ("security.md", include_str!("../roles/security.md")),
    ("backend.md", include_str!("../roles/backend.md")),
    ("frontend.md", include_str!("../roles/frontend.md")),
    ("database.md", include_str!("../roles/database.md")),
    ("devops.md", include_str!("../roles/devops.md")),
];
