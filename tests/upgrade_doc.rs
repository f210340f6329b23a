//! docs/UPGRADE-FROM-RSA.md names every Custom Parameter: RSA's twelve under "What stays the
//! same", and every other row of the parameter table (`params::table::PARAMS`) in its "New
//! parameters" table with the table's default, so the guide cannot fall behind the code. On a
//! failure the test prints the rows the table gives.

use qualys_vm_transporter::params::table::{Param, PARAMS, RSA_KEYS};

fn guide() -> String {
    let p = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/UPGRADE-FROM-RSA.md");
    std::fs::read_to_string(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display()))
}

/// The text of the section under `## {title}`.
fn section(doc: &str, title: &str) -> String {
    let start = doc.find(&format!("\n## {title}\n")).unwrap_or_else(|| panic!("the guide has no \"## {title}\""));
    let rest = &doc[start + title.len() + 5..];
    rest.split("\n## ").next().unwrap_or("").to_string()
}

/// The default the guide shows for a parameter (the README's, without the bold of `**True**`).
fn default_cell(p: &Param) -> String {
    p.readme_default().replace("**", "").replace("per data source (below)", "per data source")
}

#[test]
fn the_guide_lists_every_parameter_beyond_rsas_with_its_default() {
    let doc = guide();
    let rows: Vec<(String, String)> = section(&doc, "New parameters")
        .lines()
        .filter(|l| l.starts_with("| `"))
        .map(|l| {
            let cells: Vec<&str> = l.trim_matches('|').split(" | ").map(str::trim).collect();
            (cells[0].trim_matches('`').to_string(), cells.get(1).copied().unwrap_or("").to_string())
        })
        .collect();
    let want: Vec<(String, String)> =
        PARAMS.iter().filter(|p| !RSA_KEYS.contains(&p.key)).map(|p| (p.key.to_string(), default_cell(p))).collect();
    assert_eq!(
        rows,
        want,
        "docs/UPGRADE-FROM-RSA.md's \"New parameters\" rows (key, default) differ from the parameter table; in the table's order:\n{}",
        want.iter().map(|(k, d)| format!("| `{k}` | {d} | ... |")).collect::<Vec<_>>().join("\n")
    );
}

#[test]
fn the_guide_keeps_rsas_parameters_and_they_are_all_in_the_table() {
    let same = section(&guide(), "What stays the same");
    for key in RSA_KEYS {
        assert!(same.contains(&format!("`{key}`")), "\"What stays the same\" does not name {key}");
        assert!(PARAMS.iter().any(|p| p.key == key), "{key} is no longer a Custom Parameter");
    }
}
