use crate::cli_env::CliEnv;

#[derive(Debug, clap::Args)]
pub struct ResearchArgs {}

pub fn run(_args: ResearchArgs, _env: &CliEnv) -> anyhow::Result<u8> {
    anyhow::bail!("not built yet")
}
