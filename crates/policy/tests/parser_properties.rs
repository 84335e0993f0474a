//! Properties of the shell parser over generated input.

use cadre_policy::Policy;
use cadre_policy::shell::{Origin, parse, quote_word};
use proptest::prelude::*;

fn shellish() -> impl Strategy<Value = String> {
    prop_oneof![
        "[a-z $'\"\\\\`(){};|&<>#\n=*~!-]{0,80}",
        "(ls|echo|\\$\\(|\\)|`|'|\"|<<|EOF|&&|\\|\\||;|\\{ |\\}|if |then |fi|for |do |done| |\n|bash -c |sudo |case |esac|\\)\\)|;;){0,30}",
        "\\PC{0,60}",
    ]
}

fn argv() -> impl Strategy<Value = Vec<String>> {
    (
        "cmd[a-z0-9_]{0,5}",
        prop::collection::vec(prop_oneof!["[ -~]{0,10}", "\\PC{0,8}"], 0..5),
    )
        .prop_map(|(program, args)| std::iter::once(program).chain(args).collect())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn parser_and_policy_never_panic(script in shellish()) {
        if let Err(err) = parse(&script) {
            prop_assert!(err.offset <= script.chars().count());
        }
        let _ = Policy::builtin().check_script(&script);
    }

    #[test]
    fn joined_commands_parse_back(commands in prop::collection::vec(argv(), 1..5)) {
        let script = commands
            .iter()
            .map(|argv| argv.iter().map(|word| quote_word(word)).collect::<Vec<_>>().join(" "))
            .collect::<Vec<_>>()
            .join(" && ");
        let parsed = parse(&script).map_err(|err| TestCaseError::fail(format!("{script:?}: {err}")))?;
        let top_level: Vec<Vec<String>> = parsed
            .commands
            .iter()
            .filter(|command| command.origin == Origin::Script)
            .map(|command| command.argv().iter().map(|word| word.to_string()).collect())
            .collect();
        prop_assert_eq!(top_level, commands);
    }
}
