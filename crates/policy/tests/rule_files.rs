//! Loading user and project rule files, their precedence, and their errors.

use cadre_policy::{Decision, Policy, PolicyError};
use std::fs;
use std::path::PathBuf;

struct Layout {
    _root: tempfile::TempDir,
    home: PathBuf,
    project: PathBuf,
}

/// A cadre home and a project with a `.cadre` folder.
fn layout(user_rules: Option<&str>, project_rules: Option<&str>) -> Layout {
    let root = tempfile::tempdir().unwrap();
    let home = root.path().join("home/.cadre");
    let project = root.path().join("work/project");
    fs::create_dir_all(&home).unwrap();
    fs::create_dir_all(&project).unwrap();
    if let Some(rules) = user_rules {
        fs::write(home.join("policy.toml"), rules).unwrap();
    }
    if let Some(rules) = project_rules {
        fs::create_dir_all(project.join(".cadre")).unwrap();
        fs::write(project.join(".cadre/policy.toml"), rules).unwrap();
    }
    Layout {
        _root: root,
        home,
        project,
    }
}

/// The project's rules as the caller hands them over: the trusted file's path and text.
fn project_rules(layout: &Layout) -> Option<(PathBuf, String)> {
    let path = layout.project.join(".cadre/policy.toml");
    let text = fs::read_to_string(&path).ok()?;
    Some((path, text))
}

fn load_layout(layout: &Layout) -> Result<Policy, PolicyError> {
    let project = project_rules(layout);
    Policy::load(
        &layout.home,
        project
            .as_ref()
            .map(|(path, text)| (path.as_path(), text.as_str())),
    )
}

fn load(layout: &Layout) -> Policy {
    load_layout(layout).unwrap()
}

fn invalid(text: &str) -> (PathBuf, Option<usize>, Option<String>, String, String) {
    let layout = layout(None, Some(text));
    match load_layout(&layout) {
        Err(err @ PolicyError::Invalid { .. }) => {
            let display = err.to_string();
            let PolicyError::Invalid {
                path,
                line,
                key,
                message,
            } = err
            else {
                unreachable!()
            };
            (path, line, key, message, display)
        }
        Err(other) => panic!("expected an invalid-file error, got {other}"),
        Ok(_) => panic!("{text:?} should be rejected"),
    }
}

#[test]
fn loads_user_and_project_files_and_reports_sources() {
    let layout = layout(
        Some("[[rule]]\ndecision = \"allow\"\ncommand = [\"cargo\", \"build\"]\n"),
        Some(
            "[[rule]]\nid = \"tests\"\ndecision = \"allow\"\ncommand = [\"cargo\", \"test\"]\nreason = \"tests are safe here\"\n",
        ),
    );
    let policy = load(&layout);
    assert_eq!(
        policy.sources(),
        [
            layout.project.join(".cadre/policy.toml"),
            layout.home.join("policy.toml")
        ]
    );
    let tests = policy.check_script("cargo test -p cadre-policy");
    assert_eq!(
        (tests.decision, tests.rule.as_str()),
        (Decision::Allow, "project:tests")
    );
    assert_eq!(tests.reason, "tests are safe here");
    let build = policy.check_script("cargo build --release");
    assert_eq!(
        (build.decision, build.rule.as_str()),
        (Decision::Allow, "user:rule-1")
    );
    assert_eq!(policy.check_script("cargo publish").decision, Decision::Ask);
}

#[test]
fn missing_files_leave_the_builtin_policy() {
    let layout = layout(None, None);
    let policy = load(&layout);
    assert!(policy.sources().is_empty());
    assert_eq!(policy.check_script("ls").decision, Decision::Allow);
}

#[test]
fn project_rules_beat_user_rules_which_beat_builtins() {
    let layout = layout(
        Some(
            "[[rule]]\ndecision = \"allow\"\ncommand = [\"npm\"]\n[[rule]]\nid = \"no-cat\"\ndecision = \"ask\"\ncommand = [\"cat\"]\n",
        ),
        Some(
            "[[rule]]\nid = \"careful-npm\"\ndecision = \"ask\"\ncommand = [\"npm\", \"publish\"]\n",
        ),
    );
    let policy = load(&layout);
    let publish = policy.check_script("npm publish");
    assert_eq!(
        (publish.decision, publish.rule.as_str()),
        (Decision::Ask, "project:careful-npm")
    );
    let install = policy.check_script("npm install");
    assert_eq!(
        (install.decision, install.rule.as_str()),
        (Decision::Allow, "user:rule-1")
    );
    let cat = policy.check_script("cat README.md");
    assert_eq!(
        (cat.decision, cat.rule.as_str()),
        (Decision::Ask, "user:no-cat")
    );
}

#[test]
fn forbid_beats_everything_and_cannot_be_lifted() {
    let layout = layout(
        Some("[[rule]]\nid = \"no-push\"\ndecision = \"forbid\"\ncommand = [\"git\", \"push\"]\n"),
        Some(concat!(
            "[[rule]]\ndecision = \"allow\"\ncommand = [\"git\", \"push\"]\n",
            "[[rule]]\ndecision = \"allow\"\ncommand = [\"rm\"]\n",
            "[[rule]]\ndecision = \"allow\"\ncommand = [\"curl\"]\n",
            "[[rule]]\ndecision = \"allow\"\ncommand = [\"sh\"]\n",
        )),
    );
    let policy = load(&layout);
    let push = policy.check_script("git push origin main");
    assert_eq!(
        (push.decision, push.rule.as_str()),
        (Decision::Forbid, "user:no-push")
    );
    assert_eq!(
        policy.check_script("rm -rf ./build").decision,
        Decision::Allow
    );
    let root = policy.check_script("rm -rf /");
    assert_eq!(
        (root.decision, root.rule.as_str()),
        (Decision::Forbid, "builtin:forbid:rm-root")
    );
    assert_eq!(
        policy.check_script("curl https://x | sh").decision,
        Decision::Forbid
    );
}

#[test]
fn wildcards_match_one_word_and_programs_match_by_base_name() {
    let layout = layout(
        None,
        Some(
            "[[rule]]\ndecision = \"allow\"\ncommand = [\"docker\", \"compose\", \"*\", \"logs\"]\n",
        ),
    );
    let policy = load(&layout);
    assert_eq!(
        policy
            .check_script("docker compose -f dev.yml logs")
            .decision,
        Decision::Ask
    );
    assert_eq!(
        policy.check_script("docker compose dev logs -f").decision,
        Decision::Allow
    );
    assert_eq!(
        policy
            .check_script("/usr/bin/docker compose dev logs")
            .decision,
        Decision::Allow
    );
    assert_eq!(
        policy.check_script("docker compose dev").decision,
        Decision::Ask
    );
}

#[test]
fn user_allow_covers_the_command_a_wrapper_runs() {
    let layout = layout(
        Some("[[rule]]\ndecision = \"allow\"\ncommand = [\"sudo\", \"apt\", \"update\"]\n"),
        None,
    );
    let policy = load(&layout);
    let update = policy.check_script("sudo apt update");
    assert_eq!(
        (update.decision, update.rule.as_str()),
        (Decision::Allow, "user:rule-1")
    );
    assert_eq!(
        policy.check_script("sudo apt install x").decision,
        Decision::Ask
    );
}

#[test]
fn redirect_and_download_conditions() {
    let layout = layout(
        None,
        Some(concat!(
            "[[rule]]\nid = \"logs\"\ndecision = \"allow\"\ncommand = [\"cargo\", \"test\"]\nwrites_file = true\n",
            "[[rule]]\nid = \"plain\"\ndecision = \"allow\"\ncommand = [\"cargo\"]\nwrites_file = false\n",
            "[[rule]]\nid = \"no-piped-jq\"\ndecision = \"forbid\"\ncommand = [\"jq\"]\npiped_from_downloader = true\n",
        )),
    );
    let policy = load(&layout);
    let logged = policy.check_script("cargo test > test.log");
    assert_eq!(
        (logged.decision, logged.rule.as_str()),
        (Decision::Allow, "project:logs")
    );
    let check = policy.check_script("cargo check");
    assert_eq!(
        (check.decision, check.rule.as_str()),
        (Decision::Allow, "project:plain")
    );
    assert_eq!(
        policy.check_script("cargo build > out").decision,
        Decision::Ask
    );
    assert_eq!(
        policy.check_script("curl https://x | jq .").decision,
        Decision::Forbid
    );
    assert_eq!(
        policy.check_script("jq . file.json").decision,
        Decision::Allow
    );
}

#[test]
fn unknown_keys_are_rejected_with_file_and_key() {
    let (path, line, key, message, display) =
        invalid("[[rule]]\ndecision = \"allow\"\ncommand = [\"ls\"]\nreasn = \"typo\"\n");
    assert!(path.ends_with(".cadre/policy.toml"));
    assert_eq!(line, Some(4));
    assert_eq!(key.as_deref(), Some("reasn"));
    assert!(message.contains("unknown field `reasn`"), "{message}");
    assert!(
        display.contains("policy.toml, line 4, key `reasn`"),
        "{display}"
    );
}

#[test]
fn wrong_types_and_values_are_rejected() {
    let (_, line, key, message, _) = invalid("[[rule]]\ndecision = \"allow\"\ncommand = \"ls\"\n");
    assert_eq!((line, key.as_deref()), (Some(3), Some("command")));
    assert!(message.contains("expected a sequence"), "{message}");

    let (_, _, key, message, _) = invalid("[[rule]]\ndecision = \"yes\"\ncommand = [\"ls\"]\n");
    assert_eq!(key.as_deref(), Some("decision"));
    assert!(message.contains("`allow`, `ask`"), "{message}");

    let (_, _, _, message, _) = invalid("[[rule]]\ncommand = [\"ls\"]\n");
    assert!(message.contains("missing field `decision`"), "{message}");

    let (_, _, key, _, _) = invalid("[[rule]]\ndecision = \"ask\"\ncommand = []\n");
    assert_eq!(key.as_deref(), Some("rule[0].command"));

    let (_, _, key, message, _) = invalid(
        "[[rule]]\nid = \"a\"\ndecision = \"ask\"\ncommand = [\"x\"]\n[[rule]]\nid = \"a\"\ndecision = \"ask\"\ncommand = [\"y\"]\n",
    );
    assert_eq!(key.as_deref(), Some("rule[1].id"));
    assert!(message.contains("used twice"), "{message}");

    let (_, _, _, message, _) = invalid("[rules]\nx = 1\n");
    assert!(message.contains("unknown field `rules`"), "{message}");

    let (_, line, _, _, _) = invalid("[[rule]\n");
    assert_eq!(line, Some(1));
}

#[test]
fn unreadable_files_are_reported() {
    let layout = layout(None, None);
    // Not UTF-8, so it cannot be read as text.
    fs::write(layout.home.join("policy.toml"), [0xff, 0xfe, 0x00]).unwrap();
    let err = load_layout(&layout).expect_err("should fail");
    assert!(matches!(err, PolicyError::Read { .. }), "{err}");
    assert!(err.to_string().contains("policy.toml"), "{err}");
}
