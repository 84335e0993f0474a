use clap_complete::Shell;

#[derive(Debug, clap::Args)]
pub struct CompletionArgs {
    /// The shell to print completions for.
    #[arg(value_enum)]
    shell: Shell,
}

pub fn run(args: CompletionArgs, mut command: clap::Command) -> anyhow::Result<u8> {
    clap_complete::generate(args.shell, &mut command, "cadre", &mut std::io::stdout());
    Ok(0)
}
