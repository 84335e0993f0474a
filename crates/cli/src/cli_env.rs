//! What every subcommand shares: the `-c` overrides and the configuration they produce.

pub struct CliEnv {
    pub overrides: Vec<String>,
}

impl CliEnv {
    pub fn new(overrides: Vec<String>) -> Self {
        CliEnv { overrides }
    }
}
