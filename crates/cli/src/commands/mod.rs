//! One module per subcommand. Each exposes an `Args` struct and a `run` function returning the
//! process exit status.

pub mod agents;
pub mod audit;
pub mod completion;
pub mod doctor;
pub mod exec;
pub mod policy;
pub mod research;
pub mod sandbox;
pub mod sessions;
pub mod supervisor;
pub mod trust;

/// A duration flag (`500ms`, `90s`, `10m`, `1h30m`, `2d`, or plain seconds), read the same way
/// by every command.
pub fn parse_duration(text: &str) -> Result<std::time::Duration, String> {
    cadre_protocol::duration::parse_duration(text).map_err(|e| e.to_string())
}

/// Prints an error and its chain of causes the same way for every subcommand.
#[allow(clippy::print_stderr)]
pub fn report_error(err: &anyhow::Error) {
    eprintln!("error: {err}");
    for cause in err.chain().skip(1) {
        eprintln!("  caused by: {cause}");
    }
}
