//! Where role files are found, which wins a name clash, and how a catalog is narrowed.

use cadre_protocol::SecurityProfile;
use cadre_roles::{CADRE_TOOLS, RoleCatalog, RoleError, RoleFormat, RoleSource};
use cadre_trust::{CheckedProject, ProjectFiles, TrustStore};
use std::fs;
use std::path::{Path, PathBuf};

fn write(path: &Path, text: &str) {
    fs::create_dir_all(path.parent().unwrap()).unwrap();
    fs::write(path, text).unwrap();
}

fn role_file(name: &str, description: &str) -> String {
    format!("---\nname: {name}\ndescription: {description}\n---\nYou are {name}.\n")
}

/// A user home, a cadre home and a project with a nested working directory.
struct Layout {
    _root: tempfile::TempDir,
    home: PathBuf,
    cadre_home: PathBuf,
    codex_home: PathBuf,
    project: PathBuf,
    cwd: PathBuf,
}

impl Layout {
    fn new() -> Self {
        let root = tempfile::tempdir().unwrap();
        let home = root.path().join("home");
        let project = root.path().join("work/project");
        let cwd = project.join("src/deep");
        fs::create_dir_all(&cwd).unwrap();
        fs::create_dir_all(project.join(".git")).unwrap();
        fs::create_dir_all(&home).unwrap();
        Layout {
            cadre_home: home.join(".cadre"),
            codex_home: home.join(".codex"),
            home,
            project,
            cwd,
            _root: root,
        }
    }

    fn load(&self) -> RoleCatalog {
        let project = self.project_files(&self.cwd, true);
        RoleCatalog::load_with_codex_home(
            &self.cadre_home,
            Some(&self.home),
            Some(&self.codex_home),
            &project,
        )
    }

    /// The project files around `cwd`, all trusted first when `trust` says so.
    fn project_files(&self, cwd: &Path, trust: bool) -> CheckedProject {
        let files = ProjectFiles::discover(cwd, &self.cadre_home, Some(&self.home)).unwrap();
        let store = TrustStore::in_cadre_home(&self.cadre_home);
        if trust {
            store.trust(&files).unwrap();
        }
        files.check(&store.load().unwrap())
    }
}

fn source_path(catalog: &RoleCatalog, name: &str) -> Option<PathBuf> {
    match &catalog.get(name)?.source {
        RoleSource::File { path, .. } => Some(path.clone()),
        RoleSource::Builtin => None,
    }
}

#[test]
fn the_eight_builtin_roles_load_without_problems() {
    let catalog = RoleCatalog::builtin();
    let names: Vec<&str> = catalog
        .roles()
        .iter()
        .map(|role| role.name.as_str())
        .collect();
    assert_eq!(
        names,
        [
            "CodeExpert",
            "Researcher",
            "Tester",
            "Security",
            "Backend",
            "Frontend",
            "Database",
            "DevOps"
        ]
    );
    assert!(catalog.problems().is_empty());
    for role in catalog.roles() {
        assert_eq!(role.source, RoleSource::Builtin);
        assert!(role.description.len() > 40, "{}", role.name);
        let lines = role.system_prompt.lines().count();
        assert!((15..=40).contains(&lines), "{}: {lines} lines", role.name);
        let tools = role
            .tools
            .as_ref()
            .expect("built-in roles list their tools");
        assert!(
            tools
                .iter()
                .all(|tool| CADRE_TOOLS.contains(&tool.as_str()))
        );
        let writes = tools.iter().any(|tool| tool == "apply_patch");
        let profile = role.profile.expect("built-in roles set a profile");
        assert_eq!(writes, profile.allows_workspace_writes(), "{}", role.name);
    }
    let profile = |name: &str| catalog.get(name).unwrap().profile.unwrap();
    assert_eq!(profile("Researcher"), SecurityProfile::NetReadOnly);
    assert_eq!(profile("Security"), SecurityProfile::Offline);
    assert_eq!(profile("CodeExpert"), SecurityProfile::Offline);
    for name in ["Backend", "Frontend", "Database", "DevOps", "Tester"] {
        assert_eq!(profile(name), SecurityProfile::WorkspaceWrite, "{name}");
    }
    let researcher_tools = catalog.get("Researcher").unwrap().tools.clone().unwrap();
    assert!(!researcher_tools.contains(&"shell".to_string()));
    assert!(researcher_tools.contains(&"research".to_string()));
}

#[test]
fn files_of_every_format_and_level_load() {
    let layout = Layout::new();
    write(
        &layout.codex_home.join("agents/explorer.toml"),
        "description = \"Explores.\"\ndeveloper_instructions = \"Explore.\"\nsandbox_mode = \"read-only\"\n",
    );
    write(
        &layout.home.join(".claude/agents/claude-user.md"),
        &role_file("claude-user", "u"),
    );
    write(
        &layout.home.join(".gemini/agents/gemini-user.md"),
        &role_file("gemini-user", "u"),
    );
    write(
        &layout.cadre_home.join("agents/cadre-user.md"),
        &role_file("cadre-user", "u"),
    );
    write(
        &layout.project.join(".claude/agents/claude-project.md"),
        &role_file("claude-project", "p"),
    );
    write(
        &layout.project.join(".gemini/agents/gemini-project.md"),
        &role_file("gemini-project", "p"),
    );
    write(
        &layout.project.join(".cadre/agents/cadre-project.md"),
        &role_file("cadre-project", "p"),
    );
    write(
        &layout.project.join(".cadre/agents/notes.txt"),
        "not a role",
    );
    write(
        &layout.project.join(".cadre/agents/README.md"),
        "# What these agents are\n",
    );

    let catalog = layout.load();
    assert!(catalog.problems().is_empty(), "{:?}", catalog.problems());
    let names: Vec<&str> = catalog
        .roles()
        .iter()
        .skip(8)
        .map(|role| role.name.as_str())
        .collect();
    assert_eq!(
        names,
        [
            "explorer",
            "claude-user",
            "gemini-user",
            "cadre-user",
            "claude-project",
            "gemini-project",
            "cadre-project"
        ]
    );
    let format = |name: &str| match &catalog.get(name).unwrap().source {
        RoleSource::File { format, .. } => *format,
        RoleSource::Builtin => panic!("{name} is built in"),
    };
    assert_eq!(format("explorer"), RoleFormat::Codex);
    assert_eq!(format("claude-project"), RoleFormat::ClaudeCode);
    assert_eq!(format("gemini-user"), RoleFormat::GeminiCli);
    assert_eq!(format("cadre-project"), RoleFormat::Cadre);
}

#[test]
fn project_roles_override_user_roles_and_user_roles_override_builtin_ones() {
    let layout = Layout::new();
    write(
        &layout.home.join(".claude/agents/reviewer.md"),
        &role_file("reviewer", "user claude"),
    );
    write(
        &layout.cadre_home.join("agents/reviewer.md"),
        &role_file("Reviewer", "user cadre"),
    );
    write(
        &layout.project.join(".gemini/agents/rev.md"),
        &role_file("REVIEWER", "project gemini"),
    );
    write(
        &layout.cadre_home.join("agents/sec.md"),
        &role_file("security", "my security"),
    );

    let catalog = layout.load();
    let reviewer = catalog.get("reviewer").unwrap();
    assert_eq!(reviewer.description, "project gemini");
    assert_eq!(
        source_path(&catalog, "Reviewer"),
        Some(layout.project.join(".gemini/agents/rev.md"))
    );
    assert_eq!(
        catalog
            .roles()
            .iter()
            .filter(|r| r.name.eq_ignore_ascii_case("reviewer"))
            .count(),
        1
    );

    let security = catalog.get("Security").unwrap();
    assert_eq!(security.description, "my security");
    assert_eq!(
        catalog.roles()[3].name,
        "security",
        "an override keeps the built-in role's place"
    );
    assert_eq!(catalog.roles().len(), 9);

    // Two user-level files defining one name is reported; the project override is not.
    let notices: Vec<String> = catalog.problems().iter().map(ToString::to_string).collect();
    assert_eq!(notices.len(), 1, "{notices:?}");
    assert!(
        notices[0].contains("agents/reviewer.md: name: replaces the role `reviewer`"),
        "{notices:?}"
    );
    assert!(catalog.problems().iter().all(|problem| !problem.fatal));
}

#[test]
fn a_broken_file_is_reported_and_the_others_still_load() {
    let layout = Layout::new();
    let broken = layout.project.join(".claude/agents/broken.md");
    write(&broken, "---\ndescription: has no name\n---\nbody\n");
    write(
        &layout.project.join(".claude/agents/fine.md"),
        &role_file("fine", "works"),
    );
    write(
        &layout.project.join(".cadre/agents/typo.md"),
        "---\nname: typo\nmax_turns: ten\n---\n",
    );
    write(&layout.codex_home.join("agents/bad.toml"), "name = \n");
    write(
        &layout.codex_home.join("agents/good.toml"),
        "name = \"good\"\ndeveloper_instructions = \"x\"\ndescription = \"d\"\n",
    );

    let catalog = layout.load();
    assert!(catalog.get("fine").is_some());
    assert!(catalog.get("good").is_some());
    assert!(catalog.get("typo").is_none());
    let fatal: Vec<_> = catalog.problems().iter().filter(|p| p.fatal).collect();
    assert_eq!(fatal.len(), 3, "{fatal:?}");
    let broken_problem = fatal
        .iter()
        .find(|p| p.path == broken)
        .expect("broken.md reported");
    assert_eq!(broken_problem.field.as_deref(), Some("name"));
    let typo_problem = fatal.iter().find(|p| p.path.ends_with("typo.md")).unwrap();
    assert_eq!(typo_problem.field.as_deref(), Some("max_turns"));
    assert!(fatal.iter().any(|p| p.path.ends_with("bad.toml")));
}

#[test]
fn the_nearest_project_directory_wins_and_the_user_directory_is_read_once() {
    let layout = Layout::new();
    write(
        &layout.project.join(".cadre/agents/outer.md"),
        &role_file("outer", "o"),
    );
    write(
        &layout.cwd.join(".cadre/agents/inner.md"),
        &role_file("inner", "i"),
    );
    let catalog = layout.load();
    assert!(catalog.get("inner").is_some());
    assert!(
        catalog.get("outer").is_none(),
        "only the nearest .cadre/agents is read"
    );

    // Working inside the home directory: ~/.claude/agents is the user directory, not a project one.
    write(
        &layout.home.join(".claude/agents/mine.md"),
        &role_file("mine", "m"),
    );
    let inside_home = layout.home.join("code");
    fs::create_dir_all(&inside_home).unwrap();
    let project = layout.project_files(&inside_home, true);
    let catalog =
        RoleCatalog::load_with_codex_home(&layout.cadre_home, Some(&layout.home), None, &project);
    assert!(catalog.get("mine").is_some());
    assert!(catalog.problems().is_empty(), "{:?}", catalog.problems());
}

#[test]
fn lookup_ignores_case() {
    let catalog = RoleCatalog::builtin();
    assert_eq!(catalog.get("codeexpert").unwrap().name, "CodeExpert");
    assert_eq!(catalog.get("DEVOPS").unwrap().name, "DevOps");
    assert!(catalog.get("Dev Ops").is_none());
    let error = catalog.require("Nobody").unwrap_err();
    assert!(
        error
            .to_string()
            .starts_with("unknown role `Nobody`; known roles: CodeExpert, Researcher")
    );
}

#[test]
fn restrict_keeps_the_named_roles_in_the_order_given() {
    let catalog = RoleCatalog::builtin();
    let narrowed = catalog
        .restrict(&[
            "security".to_string(),
            "Backend, tester".to_string(),
            "SECURITY".to_string(),
        ])
        .unwrap();
    let names: Vec<&str> = narrowed
        .roles()
        .iter()
        .map(|role| role.name.as_str())
        .collect();
    assert_eq!(names, ["Security", "Backend", "Tester"]);
    assert!(narrowed.get("Frontend").is_none());

    assert_eq!(catalog.restrict(&[]).unwrap().roles().len(), 8);

    let error = catalog
        .restrict(&[
            "Security".to_string(),
            "Wizard".to_string(),
            "Bard".to_string(),
        ])
        .unwrap_err();
    let RoleError::UnknownRoles { names, known } = &error;
    assert_eq!(names, &["Wizard", "Bard"]);
    assert_eq!(known.len(), 8);
    assert!(
        error
            .to_string()
            .starts_with("unknown roles `Wizard`, `Bard`; known roles: CodeExpert,")
    );
}

#[test]
fn a_project_role_file_loads_only_once_trusted_as_it_is() {
    let layout = Layout::new();
    let path = layout.project.join(".claude/agents/helper.md");
    write(&path, &role_file("helper", "helps"));
    let untrusted = layout.project_files(&layout.cwd, false);
    let catalog =
        RoleCatalog::load_with_codex_home(&layout.cadre_home, Some(&layout.home), None, &untrusted);
    assert!(catalog.get("helper").is_none());
    assert!(layout.load().get("helper").is_some());

    write(&path, &role_file("helper", "now asks for more"));
    let changed = layout.project_files(&layout.cwd, false);
    let catalog =
        RoleCatalog::load_with_codex_home(&layout.cadre_home, Some(&layout.home), None, &changed);
    assert!(catalog.get("helper").is_none());
}
