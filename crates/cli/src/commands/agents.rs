use crate::cli_env::CliEnv;

#[derive(Debug, clap::Args)]
pub struct AgentsArgs {}

pub fn run(_args: AgentsArgs, _env: &CliEnv) -> anyhow::Result<u8> {
    anyhow::bail!("not built yet")
}
