use crate::cli_env::CliEnv;

#[derive(Debug, clap::Args)]
pub struct DoctorArgs {}

pub fn run(_args: DoctorArgs, _env: &CliEnv) -> anyhow::Result<u8> {
    anyhow::bail!("not built yet")
}
