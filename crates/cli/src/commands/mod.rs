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
pub mod supervisor;

/// Prints an error and its chain of causes the same way for every subcommand.
#[allow(clippy::print_stderr)]
pub fn report_error(err: &anyhow::Error) {
    eprintln!("error: {err}");
    for cause in err.chain().skip(1) {
        eprintln!("  caused by: {cause}");
    }
}
