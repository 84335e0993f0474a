use crate::cli_env::CliEnv;

#[derive(Debug, clap::Args)]
pub struct ExecArgs {}

pub fn run(_args: ExecArgs, _env: &CliEnv) -> anyhow::Result<u8> {
    anyhow::bail!("not built yet")
}
