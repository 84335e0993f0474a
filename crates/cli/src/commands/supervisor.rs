use crate::cli_env::CliEnv;

#[derive(Debug, clap::Args)]
pub struct SupervisorArgs {}

pub fn run(_args: SupervisorArgs, _env: &CliEnv) -> anyhow::Result<u8> {
    anyhow::bail!("not built yet")
}
