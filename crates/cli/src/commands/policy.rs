use crate::cli_env::CliEnv;

#[derive(Debug, clap::Args)]
pub struct PolicyArgs {}

pub fn run(_args: PolicyArgs, _env: &CliEnv) -> anyhow::Result<u8> {
    anyhow::bail!("not built yet")
}
