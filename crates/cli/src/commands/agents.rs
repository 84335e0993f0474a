//! `cadre agents`: list the roles a run can use and show one in full.

use crate::cli_env::CliEnv;
use cadre_roles::{RoleCatalog, RoleDefinition, RoleLoadProblem, RoleSource, format_duration};
use serde_json::{Value, json};
use std::io::Write;
use std::path::PathBuf;

#[derive(Debug, clap::Args)]
pub struct AgentsArgs {
    /// Look for project roles from this directory instead of the current one.
    #[arg(short = 'C', long = "cd", value_name = "DIR", global = true)]
    cd: Option<PathBuf>,

    #[command(subcommand)]
    command: Option<AgentsCommand>,
}

#[derive(Debug, clap::Subcommand)]
enum AgentsCommand {
    /// List every role: name, source file, tools and profile, then any problems with role files
    /// (the default).
    List(ListArgs),
    /// Show one role in full, with its system prompt.
    Show(ShowArgs),
}

#[derive(Debug, Clone, Copy, Default, clap::ValueEnum)]
enum Format {
    #[default]
    Text,
    Json,
}

#[derive(Debug, Default, clap::Args)]
struct ListArgs {
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Text)]
    format: Format,
}

#[derive(Debug, clap::Args)]
struct ShowArgs {
    /// The role's name (case is ignored).
    name: String,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Text)]
    format: Format,
}

pub fn run(args: AgentsArgs, env: &CliEnv) -> anyhow::Result<u8> {
    let config = env.load_config(args.cd.clone(), Default::default())?;
    let catalog = env.roles(&config);
    match args
        .command
        .unwrap_or(AgentsCommand::List(ListArgs::default()))
    {
        AgentsCommand::List(list) => run_list(&catalog, list.format),
        AgentsCommand::Show(show) => run_show(&catalog, &show),
    }
}

fn run_list(catalog: &RoleCatalog, format: Format) -> anyhow::Result<u8> {
    let mut out = std::io::stdout().lock();
    if let Format::Json = format {
        let roles: Vec<Value> = catalog
            .roles()
            .iter()
            .map(|role| role_json(role, false))
            .collect();
        let problems: Vec<Value> = catalog.problems().iter().map(problem_json).collect();
        let document = json!({ "roles": roles, "problems": problems });
        writeln!(out, "{}", serde_json::to_string_pretty(&document)?)?;
        return Ok(0);
    }
    let rows: Vec<[String; 4]> = catalog
        .roles()
        .iter()
        .map(|role| {
            [
                role.name.clone(),
                role.source.to_string(),
                tools_text(role),
                profile_text(role).to_string(),
            ]
        })
        .collect();
    let header = ["NAME", "SOURCE", "TOOLS", "PROFILE"].map(str::to_string);
    let mut widths = [0; 4];
    for row in std::iter::once(&header).chain(&rows) {
        for (width, cell) in widths.iter_mut().zip(row) {
            *width = (*width).max(cell.chars().count());
        }
    }
    for row in std::iter::once(&header).chain(&rows) {
        let line = format!(
            "{:<w0$}  {:<w1$}  {:<w2$}  {}",
            row[0],
            row[1],
            row[2],
            row[3],
            w0 = widths[0],
            w1 = widths[1],
            w2 = widths[2],
        );
        writeln!(out, "{}", line.trim_end())?;
    }
    if !catalog.problems().is_empty() {
        writeln!(out)?;
        write_problems(&mut out, catalog.problems())?;
    }
    Ok(0)
}

fn run_show(catalog: &RoleCatalog, args: &ShowArgs) -> anyhow::Result<u8> {
    let role = catalog.require(&args.name)?;
    let problems: Vec<&RoleLoadProblem> = match &role.source {
        RoleSource::File { path, .. } => catalog
            .problems()
            .iter()
            .filter(|problem| &problem.path == path)
            .collect(),
        RoleSource::Builtin => Vec::new(),
    };
    let mut out = std::io::stdout().lock();
    if let Format::Json = args.format {
        let mut document = role_json(role, true);
        document["problems"] = problems.iter().copied().map(problem_json).collect();
        writeln!(out, "{}", serde_json::to_string_pretty(&document)?)?;
        return Ok(0);
    }
    let source = match &role.source {
        RoleSource::Builtin => "built-in".to_string(),
        RoleSource::File { path, format } => format!("{} ({format} format)", path.display()),
    };
    let fields = [
        ("name", role.name.clone()),
        ("description", role.description.clone()),
        ("source", source),
        ("tools", tools_text(role)),
        ("profile", profile_text(role).to_string()),
        (
            "model",
            role.model
                .clone()
                .unwrap_or_else(|| "(the session's model)".into()),
        ),
        (
            "max turns",
            role.max_turns
                .map_or_else(|| "(the run's limit)".into(), |turns| turns.to_string()),
        ),
        (
            "timeout",
            role.timeout
                .map_or_else(|| "(the run's limit)".into(), format_duration),
        ),
    ];
    for (label, value) in fields {
        writeln!(out, "{:<12} {value}", format!("{label}:"))?;
    }
    if !problems.is_empty() {
        writeln!(out, "notices:")?;
        for problem in problems {
            writeln!(out, "  {problem}")?;
        }
    }
    writeln!(out, "\nsystem prompt:\n")?;
    writeln!(out, "{}", role.system_prompt)?;
    Ok(0)
}

fn tools_text(role: &RoleDefinition) -> String {
    match &role.tools {
        None => "(all)".into(),
        Some(tools) if tools.is_empty() => "(none)".into(),
        Some(tools) => tools.join(", "),
    }
}

fn profile_text(role: &RoleDefinition) -> &'static str {
    role.profile
        .map_or("(the run's)", |profile| profile.as_str())
}

/// The problems after the table: `error` for a skipped file, `notice` for an ignored field.
fn write_problems(out: &mut impl Write, problems: &[RoleLoadProblem]) -> std::io::Result<()> {
    let skipped = problems.iter().filter(|problem| problem.fatal).count();
    let notices = problems.len() - skipped;
    writeln!(
        out,
        "Problems with role files ({skipped} skipped, {notices} notice{}):",
        if notices == 1 { "" } else { "s" },
    )?;
    for problem in problems {
        let kind = if problem.fatal { "error" } else { "notice" };
        writeln!(out, "  {kind:<6}  {problem}")?;
    }
    Ok(())
}

fn role_json(role: &RoleDefinition, with_prompt: bool) -> Value {
    let (source, format) = match &role.source {
        RoleSource::Builtin => (Value::Null, "built-in"),
        RoleSource::File { path, format } => (json!(path), format.as_str()),
    };
    let mut value = json!({
        "name": role.name,
        "description": role.description,
        "source": source,
        "format": format,
        "tools": role.tools,
        "profile": role.profile.map(|profile| profile.as_str()),
        "model": role.model,
        "max_turns": role.max_turns,
        "timeout_ms": role.timeout.map(|timeout| timeout.as_millis() as u64),
    });
    if with_prompt {
        value["system_prompt"] = json!(role.system_prompt);
    }
    value
}

fn problem_json(problem: &RoleLoadProblem) -> Value {
    json!({
        "path": problem.path,
        "field": problem.field,
        "message": problem.message,
        "fatal": problem.fatal,
    })
}
