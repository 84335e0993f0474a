use crate::cli_env::CliEnv;

#[derive(Debug, clap::Args)]
pub struct SandboxArgs {}

pub fn run(_args: SandboxArgs, _env: &CliEnv) -> anyhow::Result<u8> {
    anyhow::bail!("not built yet")
}
