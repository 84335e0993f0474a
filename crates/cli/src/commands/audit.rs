use crate::cli_env::CliEnv;

#[derive(Debug, clap::Args)]
pub struct AuditArgs {}

pub fn run(_args: AuditArgs, _env: &CliEnv) -> anyhow::Result<u8> {
    anyhow::bail!("not built yet")
}
