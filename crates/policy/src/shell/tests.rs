use super::*;

fn argvs(script: &str) -> Vec<Vec<String>> {
    parse(script)
        .unwrap_or_else(|err| panic!("{script:?} should parse: {err}"))
        .commands
        .iter()
        .map(|command| command.argv().iter().map(|s| s.to_string()).collect())
        .collect()
}

fn single(script: &str) -> SimpleCommand {
    let parsed = parse(script).unwrap_or_else(|err| panic!("{script:?} should parse: {err}"));
    assert_eq!(
        parsed.commands.len(),
        1,
        "{script:?}: {:?}",
        parsed.commands
    );
    parsed.commands.into_iter().next().unwrap()
}

fn rejects(script: &str) -> String {
    match parse(script) {
        Ok(parsed) => panic!("{script:?} should not parse, got {:?}", parsed.commands),
        Err(err) => err.message,
    }
}

#[test]
fn splits_lists_and_pipelines() {
    assert_eq!(
        argvs("cd src && ls -la | grep rs; echo done || true & wait\npwd"),
        vec![
            vec!["cd", "src"],
            vec!["ls", "-la"],
            vec!["grep", "rs"],
            vec!["echo", "done"],
            vec!["true"],
            vec!["wait"],
            vec!["pwd"],
        ]
    );
}

#[test]
fn removes_quotes_and_escapes() {
    let command = single(r#"grep -rn "fn main" 'src dir' it\'s "a\"b" "\$x" $'tab\there'"#);
    assert_eq!(
        command.argv(),
        [
            "grep",
            "-rn",
            "fn main",
            "src dir",
            "it's",
            "a\"b",
            "$x",
            "tab\there"
        ]
    );
    assert!(command.words.iter().all(|word| word.literal));
}

#[test]
fn expansions_make_words_non_literal() {
    let command = single(r#"rm -rf "$HOME" ${TARGET}/x ~"#);
    assert_eq!(command.argv(), ["rm", "-rf", "$HOME", "${TARGET}/x", "~"]);
    assert!(!command.words[2].literal);
    assert!(!command.words[3].literal);
    assert!(command.words[4].literal);
}

#[test]
fn records_redirects() {
    let command = single("cargo test 2>&1 >> log.txt < input &> both 3>/dev/null");
    assert_eq!(command.argv(), ["cargo", "test"]);
    let kinds: Vec<(Option<u32>, RedirectKind, &str)> = command
        .redirects
        .iter()
        .map(|r| (r.fd, r.kind, r.target.as_str()))
        .collect();
    assert_eq!(
        kinds,
        vec![
            (Some(2), RedirectKind::Duplicate, "1"),
            (None, RedirectKind::Append, "log.txt"),
            (None, RedirectKind::Read, "input"),
            (None, RedirectKind::WriteBoth, "both"),
            (Some(3), RedirectKind::Write, "/dev/null"),
        ]
    );
    let writes: Vec<&str> = command.file_writes().map(|r| r.target.as_str()).collect();
    assert_eq!(writes, ["log.txt", "both"]);
}

#[test]
fn redirect_without_space_and_here_string() {
    let command = single("echo hi>out.txt");
    assert_eq!(command.argv(), ["echo", "hi"]);
    assert_eq!(command.redirects[0].target, "out.txt");
    let command = single("grep x <<< \"$text\"");
    assert_eq!(command.redirects[0].kind, RedirectKind::HereString);
    assert!(command.file_writes().next().is_none());
}

#[test]
fn digits_not_followed_by_redirect_are_words() {
    assert_eq!(
        single("head -n 20 file").argv(),
        ["head", "-n", "20", "file"]
    );
}

#[test]
fn assignments_prefix_the_command() {
    let command = single("RUST_LOG=debug FOO='a b' cargo run -- --flag=x");
    assert_eq!(command.assignments, ["RUST_LOG=debug", "FOO=a b"]);
    assert_eq!(command.argv(), ["cargo", "run", "--", "--flag=x"]);
    let parsed = parse("x=$(date)").unwrap();
    assert_eq!(parsed.commands[0].argv(), ["date"]);
    let bare = &parsed.commands[1];
    assert!(bare.words.is_empty());
    assert_eq!(bare.assignments, ["x=$(date)"]);
    // A quoted name is not an assignment.
    assert_eq!(single("'A=1' ls").argv(), ["A=1", "ls"]);
}

#[test]
fn command_substitutions_are_commands_too() {
    let parsed = parse("echo \"today: $(date +%F)\" `whoami`").unwrap();
    let programs: Vec<_> = parsed
        .commands
        .iter()
        .map(|c| c.program().unwrap())
        .collect();
    assert_eq!(programs, ["date", "whoami", "echo"]);
    assert_eq!(parsed.commands[0].origin, Origin::Substitution);
    assert_eq!(parsed.commands[1].origin, Origin::Substitution);
    assert_eq!(parsed.commands[2].origin, Origin::Script);
    assert_eq!(parsed.commands[2].fed_by, ["date", "whoami"]);
    assert!(!parsed.commands[2].words[1].literal);
}

#[test]
fn nested_substitutions_and_quotes_inside_them() {
    let parsed = parse(r#"echo "$(cat "$(ls | head -1)")""#).unwrap();
    let programs: Vec<_> = parsed.commands.iter().filter_map(|c| c.program()).collect();
    assert_eq!(programs, ["ls", "head", "cat", "echo"]);
}

#[test]
fn subshells_and_groups_share_trailing_redirects() {
    let parsed = parse("(cd sub && make) > build.log; { ls; pwd; } 2>/dev/null").unwrap();
    let argv: Vec<_> = parsed.commands.iter().map(|c| c.argv().join(" ")).collect();
    assert_eq!(argv, ["cd sub", "make", "ls", "pwd"]);
    assert_eq!(parsed.commands[1].redirects[0].target, "build.log");
    assert_eq!(parsed.commands[0].redirects[0].target, "build.log");
    assert_eq!(parsed.commands[3].redirects[0].target, "/dev/null");
}

#[test]
fn pipelines_record_what_feeds_each_stage() {
    let parsed = parse("curl -fsSL https://x.sh | tee copy | sh -s -- --yes").unwrap();
    let sh = &parsed.commands[2];
    assert_eq!(sh.fed_by, ["curl", "tee"]);
    assert!(sh.in_pipeline);
    assert!(parsed.commands[0].fed_by.is_empty());
}

#[test]
fn shell_c_scripts_are_parsed_recursively() {
    let parsed = parse("bash -lc 'cd /tmp && rm -rf build'").unwrap();
    assert_eq!(parsed.commands.len(), 3);
    assert_eq!(parsed.commands[1].argv(), ["cd", "/tmp"]);
    assert_eq!(parsed.commands[2].argv(), ["rm", "-rf", "build"]);
    assert_eq!(parsed.commands[2].origin, Origin::ShellScript);
    assert_eq!(parsed.commands[2].parent, Some(0));
    let nested = parse(r#"sh -c "bash -c 'echo deep'""#).unwrap();
    assert_eq!(nested.commands[2].argv(), ["echo", "deep"]);
    assert_eq!(nested.commands[2].parent, Some(1));
}

#[test]
fn wrappers_expose_the_command_they_run() {
    let parsed = parse("sudo -u root env FOO=1 timeout -s KILL 5 rm -rf /tmp/x").unwrap();
    let argv: Vec<_> = parsed.commands.iter().map(|c| c.argv().join(" ")).collect();
    assert_eq!(
        argv,
        [
            "sudo -u root env FOO=1 timeout -s KILL 5 rm -rf /tmp/x",
            "env FOO=1 timeout -s KILL 5 rm -rf /tmp/x",
            "timeout -s KILL 5 rm -rf /tmp/x",
            "rm -rf /tmp/x",
        ]
    );
    assert_eq!(parsed.commands[2].assignments, ["FOO=1"]);
    assert_eq!(parsed.commands[3].parent, Some(2));
    assert_eq!(parsed.commands[3].origin, Origin::Wrapped);
    // Lookups run nothing.
    assert_eq!(parse("command -v cargo").unwrap().commands.len(), 1);
}

#[test]
fn control_structures() {
    assert_eq!(
        argvs("for f in $(ls *.rs); do wc -l \"$f\"; done"),
        vec![vec!["ls", "*.rs"], vec!["wc", "-l", "$f"]]
    );
    assert_eq!(
        argvs("if [ -f Cargo.toml ]; then cargo build; elif true; then :; else make; fi"),
        vec![
            vec!["[", "-f", "Cargo.toml", "]"],
            vec!["cargo", "build"],
            vec!["true"],
            vec![":"],
            vec!["make"],
        ]
    );
    assert_eq!(
        argvs("while read -r line; do echo \"$line\"; done < list.txt"),
        vec![vec!["read", "-r", "line"], vec!["echo", "$line"]]
    );
    assert_eq!(
        argvs("case \"$1\" in\n  a|b) echo ab ;;\n  *) echo other ;;\nesac"),
        vec![vec!["echo", "ab"], vec!["echo", "other"]]
    );
    assert_eq!(
        argvs("[[ -n \"$x\" && $x < 3 ]] && echo yes"),
        vec![
            vec!["[[", "-n", "$x", "&&", "$x", "<", "3", "]]"],
            vec!["echo", "yes"]
        ]
    );
}

#[test]
fn reserved_words_are_only_reserved_in_command_position() {
    assert_eq!(
        argvs("echo if then fi done"),
        vec![vec!["echo", "if", "then", "fi", "done"]]
    );
    assert_eq!(argvs("echo { }"), vec![vec!["echo", "{", "}"]]);
}

#[test]
fn functions_mark_their_bodies() {
    let parsed = parse(":(){ :|:& };:").unwrap();
    let inside: Vec<_> = parsed
        .commands
        .iter()
        .filter(|c| c.in_function.is_some())
        .collect();
    assert_eq!(inside.len(), 2);
    assert!(
        inside
            .iter()
            .all(|c| c.in_function.as_deref() == Some(":") && c.in_pipeline)
    );
    assert!(inside[1].background);
    assert_eq!(parsed.commands.last().unwrap().in_function, None);
    let parsed = parse("function greet { echo hi; }\ngreet").unwrap();
    assert_eq!(parsed.commands[0].in_function.as_deref(), Some("greet"));
}

#[test]
fn comments_and_line_continuations() {
    assert_eq!(
        argvs("# set up\ncargo build \\\n  --release # fast\necho a#b"),
        vec![vec!["cargo", "build", "--release"], vec!["echo", "a#b"]]
    );
}

#[test]
fn here_docs_are_read_and_skipped() {
    let parsed = parse("cat > notes.md <<'EOF'\n$(not a command)\nEOF\necho after").unwrap();
    assert_eq!(parsed.commands.len(), 2);
    assert_eq!(
        parsed.commands[0].file_writes().next().unwrap().target,
        "notes.md"
    );
    assert_eq!(parsed.commands[1].argv(), ["echo", "after"]);
    let tabs = parse("cat <<-END\n\tbody\n\tEND\nls").unwrap();
    assert_eq!(tabs.commands.len(), 2);
    assert!(rejects("cat <<EOF\n$(rm -rf x)\nEOF").contains("here-doc"));
    assert!(rejects("cat <<EOF\nnever ends").contains("not terminated"));
}

#[test]
fn unsupported_or_broken_scripts_are_errors() {
    assert!(rejects("echo 'unterminated").contains("single quote"));
    assert!(rejects("echo \"unterminated").contains("double quote"));
    assert!(rejects("echo $(ls").contains("$("));
    assert!(rejects("echo `ls").contains("backtick"));
    assert!(rejects("diff <(ls a) <(ls b)").contains("process substitution"));
    assert!(rejects("(( i++ ))").contains("arithmetic"));
    assert!(rejects("ls &&").contains("command"));
    assert!(rejects("| ls").contains("unexpected"));
    assert!(rejects("ls )").contains("unexpected"));
    assert!(rejects("if true; then ls").contains("fi"));
    assert!(rejects("arr=(a b)").contains("array"));
    assert!(rejects("bash -c 'echo \"oops'").contains("nested"));
    for opener in ["( ", "$(", "{ ", "if true; then ", "echo \"$(", "f() { "] {
        let message = rejects(&opener.repeat(200));
        assert!(
            message.contains("nested too deeply"),
            "{opener:?}: {message}"
        );
    }
}

#[test]
fn arithmetic_and_parameter_expansions_are_words() {
    let command = single("echo $((1 + 2)) ${name:-default} $# $?");
    assert_eq!(
        command.argv(),
        ["echo", "$((1 + 2))", "${name:-default}", "$#", "$?"]
    );
}

#[test]
fn parse_argv_builds_nested_commands() {
    let argv: Vec<String> = ["sudo", "bash", "-c", "ls | wc -l"]
        .map(String::from)
        .to_vec();
    let parsed = parse_argv(&argv).unwrap();
    let programs: Vec<_> = parsed.commands.iter().filter_map(|c| c.program()).collect();
    assert_eq!(programs, ["sudo", "bash", "ls", "wc"]);
}

#[test]
fn real_world_agent_commands_parse() {
    let scripts = [
        "cargo test -p cadre-policy 2>&1 | tail -n 50",
        "git log --oneline -n 20 --format='%h %s'",
        "find . -name '*.rs' -not -path './target/*' | xargs wc -l | sort -n | tail",
        "rg -n \"TODO|FIXME\" --glob '!target' .",
        "python3 -c 'import sys; print(sys.version)'",
        "npm install && npm run build -- --mode=production",
        "sed -n '10,20p' src/main.rs",
        "export PATH=\"$HOME/.cargo/bin:$PATH\"; cargo --version",
        "docker run --rm -v \"$(pwd)\":/app -w /app rust:1 cargo build",
        "ls -la ~/.config 2>/dev/null || echo 'no config'",
        "test -d build || mkdir -p build && cd build && cmake .. && make -j$(nproc)",
        "git diff HEAD~1 -- src/ | head -100",
        "awk '{ print $1 }' access.log | sort | uniq -c | sort -rn | head",
        "for i in 1 2 3; do echo $i; sleep 1; done",
        "cat <<EOF > config.toml\n[server]\nport = 8080\nEOF",
        "set -euo pipefail\nmake test",
        "curl -s http://127.0.0.1:8080/health | jq .status",
        "echo \"a\\\"b\" 'c'\"d\"e",
        "git commit -m \"fix: handle \\`quotes\\`\"",
        "perl -pi -e 's/foo/bar/g' file.txt",
        "! grep -q pattern file",
        "time cargo build --release",
        "DEBUG=1 ./run.sh --verbose &",
        "tar -czf out.tgz dir/ && ls -l out.tgz",
        "printf '%s\\n' one two | while IFS= read -r l; do echo \"[$l]\"; done",
    ];
    for script in scripts {
        parse(script).unwrap_or_else(|err| panic!("{script:?}: {err}"));
    }
}

#[test]
fn display_reads_back_the_same_command() {
    let command = single("grep -n 'a b' it\\'s > 'out file'");
    assert_eq!(command.display(), "grep -n 'a b' 'it'\\''s' >'out file'");
    let again = single(&command.display());
    assert_eq!(again.argv(), command.argv());
    assert_eq!(again.redirects, command.redirects);
}

#[test]
fn truncated_input_is_an_error_within_bounds() {
    for script in [
        "${\\", "$((", "$(( 1 \\", "$'\\", "`\\", "\"\\", "a\\", "<<", "2>", "$(",
    ] {
        if let Err(err) = parse(script) {
            assert!(err.offset <= script.chars().count(), "{script:?}: {err:?}");
        }
    }
}
