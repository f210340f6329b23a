//! The Custom Parameters are documented from one table (`params::table::PARAMS`): README.md's
//! "## Custom Parameters" table and pkg-template/index.d.ts's `CustomParameters` interface must say
//! what the table says (keys in order, defaults, ranges, meanings). On a failure the test prints
//! the lines the table gives, to paste in.

use qualys_vm_transporter::params::table::{Kind, Param, Required, PARAMS};

fn read(path: &str) -> String {
    let p = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(path);
    std::fs::read_to_string(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display()))
}

/// The `| `key` | ... |` rows of the table under `## Custom Parameters`.
fn readme_rows(readme: &str) -> Vec<String> {
    let section = readme.split("\n## Custom Parameters\n").nth(1).unwrap_or("");
    let section = section.split("\n## ").next().unwrap_or("");
    section.lines().filter(|l| l.starts_with("| `")).map(str::to_string).collect()
}

/// The doc comment index.d.ts gives a parameter.
fn dts_comment(p: &Param) -> String {
    let tail = match (p.required, p.kind) {
        (Required::Always, _) => " Required.".to_string(),
        (Required::ForItsDataSource, _) => " Required for its data source.".to_string(),
        (_, Kind::Integer { .. }) => format!(" Default {}; {}.", p.readme_default(), p.readme_values()),
        (_, Kind::Boolean { default }) => format!(" Default {default}."),
        (_, Kind::Choice(values)) => values.first().map(|v| format!(" Default {v}.")).unwrap_or_default(),
        _ => String::new(),
    };
    format!("/** {}{tail} */", p.summary)
}

/// `(comment, key)` of each property of `export interface CustomParameters { ... }`.
fn dts_properties(dts: &str) -> Vec<(String, String)> {
    let body = dts.split("export interface CustomParameters {").nth(1).unwrap_or("");
    let body = body.split("\n}").next().unwrap_or("");
    let lines: Vec<&str> = body.lines().map(str::trim).collect();
    let mut out = Vec::new();
    for pair in lines.windows(2) {
        if let [comment, prop] = pair {
            if comment.starts_with("/**") {
                if let Some(key) = prop.strip_suffix("?: ParamValue;") {
                    out.push((comment.to_string(), key.to_string()));
                }
            }
        }
    }
    out
}

#[test]
fn readme_table_says_what_the_parameter_table_says() {
    let want: Vec<String> = PARAMS.iter().map(Param::readme_row).collect();
    let got = readme_rows(&read("README.md"));
    assert_eq!(
        got,
        want,
        "README.md's Custom Parameters rows differ from the table; the table gives:\n{}",
        want.join("\n")
    );
}

#[test]
fn typings_say_what_the_parameter_table_says() {
    let want: Vec<(String, String)> = PARAMS.iter().map(|p| (dts_comment(p), p.key.to_string())).collect();
    let got = dts_properties(&read("pkg-template/index.d.ts"));
    let print: Vec<String> = want.iter().map(|(c, k)| format!("  {c}\n  {k}?: ParamValue;")).collect();
    assert_eq!(
        got,
        want,
        "index.d.ts's CustomParameters differ from the table; the table gives:\n{}",
        print.join("\n")
    );
}

#[test]
fn the_readers_find_what_they_look_for() {
    let readme = "x\n## Custom Parameters\n\n| Key | a |\n|---|---|\n| `k` | 1 |\n\n## Next\n| `no` | 2 |\n";
    assert_eq!(readme_rows(readme), ["| `k` | 1 |"]);
    let dts = "export interface CustomParameters {\n  /** A. */\n  a?: ParamValue;\n  [key: string]: ParamValue;\n}\n";
    assert_eq!(dts_properties(dts), [("/** A. */".to_string(), "a".to_string())]);
}

/// `cargo test --test params_doc print_generated -- --ignored --nocapture` prints both blocks.
#[test]
#[ignore]
fn print_generated() {
    for p in PARAMS {
        println!("{}", p.readme_row());
    }
    for p in PARAMS {
        println!("  {}\n  {}?: ParamValue;", dts_comment(p), p.key);
    }
}
