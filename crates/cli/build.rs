//! Stamps the binary with the commit it was built from, for `cadre --version`.

fn main() {
    let commit = std::env::var("CADRE_GIT_COMMIT").ok().or_else(|| {
        std::process::Command::new("git")
            .args(["rev-parse", "--short=12", "HEAD"])
            .output()
            .ok()
            .filter(|o| o.status.success())
            .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
    });
    println!(
        "cargo:rustc-env=CADRE_GIT_COMMIT={}",
        commit.unwrap_or_else(|| "unknown commit".into())
    );
    println!("cargo:rerun-if-env-changed=CADRE_GIT_COMMIT");
    println!("cargo:rerun-if-changed=../../.git/HEAD");
    println!("cargo:rerun-if-changed=../../.git/refs/heads");
}
