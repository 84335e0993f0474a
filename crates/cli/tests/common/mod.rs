//! Helpers shared by the integration tests that drive the real `cadre` binary.
#![allow(dead_code)]

use assert_cmd::Command;
use std::path::{Path, PathBuf};

/// A scratch `$CADRE_HOME` and workspace for one test.
pub struct TestEnv {
    pub dir: tempfile::TempDir,
}

impl TestEnv {
    pub fn new() -> Self {
        let dir = tempfile::tempdir().expect("tempdir");
        std::fs::create_dir_all(dir.path().join("home")).unwrap();
        std::fs::create_dir_all(dir.path().join("work")).unwrap();
        TestEnv { dir }
    }

    pub fn home(&self) -> PathBuf {
        self.dir.path().join("home")
    }

    pub fn work(&self) -> PathBuf {
        self.dir.path().join("work")
    }

    /// Writes `$CADRE_HOME/config.toml` pointing at a scripted server with the given wire.
    pub fn configure(&self, base_url: &str, wire: &str, extra: &str) {
        let config = format!(
            "model = \"test-model\"\nmodel_provider = \"mock\"\n{extra}\n[model_providers.mock]\nname = \"Scripted\"\nbase_url = \"{base_url}\"\nwire_api = \"{wire}\"\nrequest_max_retries = 3\nstream_idle_timeout_ms = 2000\n"
        );
        std::fs::write(self.home().join("config.toml"), config).unwrap();
    }

    /// `cadre` with this env's home, run in the workspace, with no stray configuration.
    pub fn cadre(&self) -> Command {
        let mut cmd = Command::cargo_bin("cadre").expect("cadre binary");
        cmd.env("CADRE_HOME", self.home())
            .env("NO_COLOR", "1")
            .env_remove("CADRE_MODEL")
            .env_remove("CADRE_MODEL_PROVIDER")
            .env_remove("CADRE_PROFILE")
            .env_remove("CADRE_APPROVAL_POLICY")
            .env_remove("OPENAI_API_KEY")
            .current_dir(self.work())
            .timeout(std::time::Duration::from_secs(60));
        cmd
    }
}

/// Parses JSONL output into values.
pub fn jsonl(stdout: &[u8]) -> Vec<serde_json::Value> {
    String::from_utf8_lossy(stdout)
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not JSON: {l}: {e}")))
        .collect()
}

/// Replaces ids, times and temp paths so output can be snapshotted.
pub fn redact(text: &str, roots: &[&Path]) -> String {
    let mut out = text.to_string();
    for root in roots {
        out = out.replace(&root.display().to_string(), "[TMP]");
    }
    let uuid =
        regex::Regex::new(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}").unwrap();
    let out = uuid.replace_all(&out, "[UUID]");
    let ms = regex::Regex::new(r"\d+ ms").unwrap();
    let out = ms.replace_all(&out, "[N] ms");
    let version = regex::Regex::new(r"cadre \d+\.\d+\.\d+").unwrap();
    version.replace_all(&out, "cadre [VERSION]").to_string()
}
