//! Integration tests of `ResponseParser` over the real Qualys responses in tests/fixtures/real/.
//!
//! In scope: for every fixture, concrete facts read from the file (record counts, IDs, field values,
//! CDATA with literal `&quot;`, trimming, ID_SET, SIMPLE_RETURN codes and ITEM_LIST entries, empty
//! outputs), and the same items for every way of cutting the bytes into chunks (all 2-piece splits,
//! strided 3-piece splits, 1-byte chunks, seeded random chunk sizes); truncated copies of every
//! fixture (TRUNCATED_PAGE, never a record that was not complete); a generated 2,000-host detections
//! document under random splits, with a throughput print. Out of scope: mutation fuzzing (see
//! tests/fuzz_smoke.rs) and the XML reader's own unit tests (src/xml/push_reader.rs).
//!
//! The one large fixture (j1_kb_steps_real.xml, 82 kB) gets a stride of 2-piece split points in a
//! debug build, and every split point of a reduced copy (prolog, its two most interesting VULNs,
//! epilogue); a release build (`cargo test --release`) or `ALL_SPLITS=1` tries every split point of
//! every fixture.

mod common;

use common::{run, Outcome, XorShift};
use qualys_vm_transporter::response::{DocKind, Item, Limits, QualysReturn};
use qualys_vm_transporter::xml::Element;
use qualys_vm_transporter::ErrorCode;

const REAL: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/real/");

fn load(name: &str) -> Vec<u8> {
    std::fs::read(format!("{REAL}{name}")).unwrap_or_else(|e| panic!("cannot read fixture {name}: {e}"))
}

/// Items plus the final result as (code, message).
trait OutcomeExt {
    fn records(&self) -> Vec<Element>;
    fn code(&self) -> Option<ErrorCode>;
}

impl OutcomeExt for Outcome {
    fn records(&self) -> Vec<Element> {
        self.items.iter().filter_map(|i| if let Item::Record(e) = i { Some(e.to_element()) } else { None }).collect()
    }
    fn code(&self) -> Option<ErrorCode> {
        self.result.as_ref().err().and_then(|(c, _)| ErrorCode::from_str_opt(c))
    }
}

fn whole(kind: DocKind, doc: &[u8]) -> Outcome {
    run(kind, Limits::default(), [doc])
}

/// Compares two outcomes and names the first difference instead of dumping both.
fn same(got: &Outcome, want: &Outcome, what: &dyn Fn() -> String) {
    if got == want {
        return;
    }
    let first = got.items.iter().zip(&want.items).position(|(a, b)| a != b);
    panic!(
        "{}: outcome differs from the whole-document parse: {} vs {} items, first differing item {:?}, result {:?} vs {:?}",
        what(),
        got.items.len(),
        want.items.len(),
        first,
        got.result,
        want.result
    );
}

fn random_chunks(doc: &[u8], seed: u64, max: usize) -> Vec<&[u8]> {
    common::random_chunks(doc, &mut XorShift::new(seed), max)
}

fn all_splits_wanted() -> bool {
    !cfg!(debug_assertions) || std::env::var_os("ALL_SPLITS").is_some()
}

/// Parses `doc` whole and in every way listed in the module docs; asserts identical outcomes and
/// returns the whole-document outcome.
fn check_all_splits(name: &str, kind: DocKind, doc: &[u8]) -> Outcome {
    let want = whole(kind, doc);
    let limits = Limits::default();
    let n = doc.len();

    // Every 2-piece split (the large fixture: a stride in debug builds; its reduced copy gets all).
    let points: Vec<usize> =
        if n <= 16 * 1024 || all_splits_wanted() { (0..=n).collect() } else { (0..=n).step_by(97).collect() };
    for &i in &points {
        let got = run(kind, limits, [&doc[..i], &doc[i..]]);
        same(&got, &want, &|| format!("{name}: 2 pieces split at {i}"));
    }

    // 3-piece splits with a stride (about 2,500 pairs) for the small fixtures.
    let stride = (n / 70).max(1);
    let mut i = if n <= 16 * 1024 { 0 } else { n + 1 };
    while i <= n {
        let mut j = i + (i / stride) % stride;
        while j <= n {
            let got = run(kind, limits, [&doc[..i], &doc[i..j], &doc[j..]]);
            same(&got, &want, &|| format!("{name}: 3 pieces split at {i} and {j}"));
            j += stride;
        }
        i += stride;
    }

    // 1-byte chunks.
    let got = run(kind, limits, doc.chunks(1));
    same(&got, &want, &|| format!("{name}: 1-byte chunks"));

    // Random chunk sizes from fixed seeds, small and large.
    for seed in 1..=12u64 {
        let max = [3, 17, 64, 500, 4096, 70_000][(seed % 6) as usize];
        let got = run(kind, limits, random_chunks(doc, seed, max));
        same(&got, &want, &|| format!("{name}: random chunks seed {seed} max {max}"));
    }
    want
}

/// Truncated copies: every cut before the root's end tag is complete gives TRUNCATED_PAGE, delivers
/// only records complete before the cut (a prefix of the whole-document items), whatever the split.
fn check_truncations(name: &str, kind: DocKind, doc: &[u8], root: &str, record_close: Option<&str>) {
    let want = whole(kind, doc);
    let close_tag = format!("</{root}>");
    let root_end = find_last(doc, close_tag.as_bytes())
        .map(|p| p + close_tag.len())
        .unwrap_or_else(|| panic!("{name}: no {close_tag}"));
    let cuts: Vec<usize> = if root_end <= 5000 {
        (1..root_end).collect()
    } else {
        let mut rng = XorShift::new(root_end as u64);
        let mut c: Vec<usize> = (0..150).map(|_| 1 + rng.below(root_end - 1)).collect();
        c.extend([1, 2, root_end - 1, root_end - 2, root_end - close_tag.len(), root_end - close_tag.len() - 1]);
        c
    };
    for cut in cuts {
        let part = &doc[..cut];
        let got = whole(kind, part);
        assert_eq!(got.code(), Some(ErrorCode::TruncatedPage), "{name} cut at {cut}: {:?}", got.result);
        assert!(
            want.items.len() >= got.items.len() && want.items[..got.items.len()] == got.items[..],
            "{name} cut at {cut}: items are not a prefix of the complete document's items"
        );
        assert!(
            !got.items.iter().any(|i| matches!(i, Item::QualysReturn(_))),
            "{name} cut at {cut}: a cut SIMPLE_RETURN was delivered"
        );
        if let Some(tag) = record_close {
            let complete = count(part, tag.as_bytes());
            assert_eq!(
                got.records().len(),
                complete,
                "{name} cut at {cut}: records delivered vs records complete before the cut"
            );
        }
        if cut % 7 == 0 || root_end > 5000 {
            let split = run(kind, Limits::default(), random_chunks(part, cut as u64, 97));
            same(&split, &got, &|| format!("{name}: truncated at {cut}, random chunks"));
        }
    }
    // Cut exactly after the root's end tag: complete.
    assert_eq!(whole(kind, &doc[..root_end]).result, Ok(()), "{name}: document up to {close_tag} is complete");
}

fn find_last(hay: &[u8], needle: &[u8]) -> Option<usize> {
    (0..=hay.len().checked_sub(needle.len())?).rev().find(|&i| &hay[i..i + needle.len()] == needle)
}

fn count(hay: &[u8], needle: &[u8]) -> usize {
    hay.windows(needle.len()).filter(|w| *w == needle).count()
}

fn text<'a>(e: &'a Element, path: &[&str]) -> &'a str {
    e.path(path).map(|c| c.text.as_str()).unwrap_or_else(|| panic!("<{}> has no {}", e.name, path.join("/")))
}

fn detections(host: &Element) -> Vec<&Element> {
    host.child("DETECTION_LIST").map(|l| l.children.iter().collect()).unwrap_or_default()
}

fn qualys_return(o: &Outcome) -> &QualysReturn {
    assert_eq!(o.result, Ok(()));
    assert_eq!(o.items.len(), 1, "{:?}", o.items);
    match &o.items[0] {
        Item::QualysReturn(q) => q,
        other => panic!("expected a QualysReturn, got {other:?}"),
    }
}

// ---------------------------------------------------------------------------------------------
// One test per fixture: facts, all splits, truncations.

#[test]
fn demisto_host_list_detections() {
    let name = "demisto_hld_host_list_detections_raw.xml";
    let doc = load(name);
    let o = check_all_splits(name, DocKind::Detections, &doc);
    assert_eq!(o.result, Ok(()));
    assert_eq!(o.items.len(), 2, "two hosts, no warning, no notice");
    let hosts = o.records();
    let (h1, h2) = (&hosts[0], &hosts[1]);
    assert_eq!(h1.name, "HOST");
    assert_eq!(h1.child_text("ID"), Some("143111841"));
    assert_eq!(h1.child_text("IP"), Some("1.1.1.1"));
    assert_eq!(h1.child_text("TRACKING_METHOD"), Some("DNS"));
    assert_eq!(h1.child_text("OS"), Some("Linux 3.13"));
    assert_eq!(text(h1, &["DNS_DATA", "HOSTNAME"]), "one");
    assert_eq!(text(h1, &["DNS_DATA", "FQDN"]), "one.one.one.one");
    assert_eq!(h1.child_text("LAST_VM_SCANNED_DURATION"), Some("2130"));
    let d1 = detections(h1);
    let qids: Vec<&str> = d1.iter().filter_map(|d| d.child_text("QID")).collect();
    assert_eq!(qids, ["11827", "15033", "15034", "15068", "38628", "38794"]);
    // Multi-line CDATA RESULTS with literal &quot; (six characters, not resolved), trimmed ends.
    let results = d1[0].child_text("RESULTS").unwrap_or_default();
    assert!(results.starts_with("X-Content-Type-Options HTTP Header missing on port 443.\n\nGET / HTTP/1.0\n"));
    assert!(
        results.contains("Report-To: {&quot;endpoints&quot;:[{&quot;url&quot;:&quot;https:\\/\\/a.nel.cloudflare.com")
    );
    assert!(results.ends_with("alt-svc: h3=&quot;:443&quot;; ma=86400, h3-29=&quot;:443&quot;; ma=86400"));
    assert_eq!(results.len(), 1285);
    assert!(d1[1]
        .child_text("RESULTS")
        .unwrap_or_default()
        .contains(";; -&gt;&gt;HEADER&lt;&lt;- opcode: QUERY, rcode: NOERROR, id: 33129"));
    assert_eq!(d1[4].child_text("RESULTS"), Some("TLSv1.0 is supported"));
    assert_eq!(d1[0].child_text("LAST_FIXED_DATETIME"), Some("2022-12-07T10:06:40Z"));
    assert_eq!(d1[1].child_text("LAST_FIXED_DATETIME"), None, "missing elements stay missing");
    assert_eq!(d1[0].child_text("TIMES_FOUND"), Some("216"));

    assert_eq!(h2.child_text("ID"), Some("10112200"));
    assert_eq!(h2.child_text("TRACKING_METHOD"), Some("IP"));
    assert!(h2.child("OS").is_none());
    let d2 = detections(h2);
    assert_eq!(d2.len(), 2);
    assert_eq!(d2[0].child_text("QID"), Some("38726"));
    assert_eq!(d2[0].child_text("TYPE"), Some("Potential"));
    assert_eq!(d2[0].child_text("STATUS"), Some("New"));
    assert!(d2[0].child("PORT").is_none());
    assert_eq!(
        d2[1].child_text("RESULTS"),
        Some("Type\tName\nkey exchange\tdiffie-hellman-group1-sha1\ncipher\tblowfish-cbc\ncipher\tcast128-cbc\ncipher\t3des-cbc")
    );
    check_truncations(name, DocKind::Detections, &doc, "HOST_LIST_VM_DETECTION_OUTPUT", Some("</HOST>"));
}

#[test]
fn demisto_knowledge_base() {
    let name = "demisto_kb_vulnerabilities_raw.xml";
    let doc = load(name);
    let o = check_all_splits(name, DocKind::KnowledgeBase, &doc);
    assert_eq!(o.result, Ok(()));
    assert_eq!(o.items.len(), 2);
    let vulns = o.records();
    let v1 = &vulns[0];
    assert_eq!(v1.name, "VULN");
    assert_eq!(v1.child_text("QID"), Some("10052"));
    assert_eq!(v1.child_text("TITLE"), Some("Vtecrm Vtenext Multiple Security Vulnerabilities"));
    assert_eq!(v1.child_text("SEVERITY_LEVEL"), Some("3"));
    let cves: Vec<&str> = v1
        .child("CVE_LIST")
        .map(|l| l.children.iter().filter_map(|c| c.child_text("ID")).collect())
        .unwrap_or_default();
    assert_eq!(cves, ["CVE-2020-10227", "CVE-2020-10228", "CVE-2020-10229"]);
    let intel: Vec<(Option<&str>, &str)> = v1
        .child("THREAT_INTELLIGENCE")
        .map(|t| t.children.iter().map(|c| (c.attr("id"), c.text.as_str())).collect())
        .unwrap_or_default();
    assert_eq!(
        intel,
        [
            (Some("2"), "Exploit_Public"),
            (Some("8"), "No_Patch"),
            (Some("13"), "Privilege_Escalation"),
            (Some("15"), "Remote_Code_Execution")
        ]
    );
    assert_eq!(text(v1, &["CORRELATION", "EXPLOITS", "EXPLT_SRC", "SRC_NAME"]), "nvd");
    let explts = &v1
        .path(&["CORRELATION", "EXPLOITS", "EXPLT_SRC", "EXPLT_LIST"])
        .map(|l| l.children.clone())
        .unwrap_or_default();
    assert_eq!(explts.len(), 2);
    assert_eq!(explts[0].child_text("REF"), Some("CVE-2020-10229"));
    // Empty CDATA: the element exists with empty text.
    assert_eq!(explts[1].child("REF").map(|r| r.text.as_str()), Some(""));
    assert_eq!(explts[1].child_text("LINK"), None);

    let v2 = &vulns[1];
    assert_eq!(v2.child_text("QID"), Some("10186"));
    assert_eq!(v2.child("TITLE").map(|t| t.text.as_str()), Some(""));
    assert_eq!(text(v2, &["BUGTRAQ_LIST", "BUGTRAQ", "ID"]), "1881");
    let sources: Vec<&str> = v2
        .path(&["CORRELATION", "EXPLOITS"])
        .map(|e| e.children.iter().filter_map(|s| s.child_text("SRC_NAME")).collect())
        .unwrap_or_default();
    assert_eq!(sources, ["The Exploit-DB", "exploitdb", "nvd", "seebug"]);
    assert_eq!(text(v2, &["DISCOVERY", "ADDITIONAL_INFO"]), "Patch Available, Exploit Available");
    check_truncations(name, DocKind::KnowledgeBase, &doc, "KNOWLEDGE_BASE_VULN_LIST_OUTPUT", Some("</VULN>"));
}

#[test]
fn j1_knowledge_base_42_vulns() {
    let name = "j1_kb_steps_real.xml";
    let doc = load(name);
    let o = check_all_splits(name, DocKind::KnowledgeBase, &doc);
    assert_eq!(o.result, Ok(()));
    let vulns = o.records();
    assert_eq!(vulns.len(), 42);
    assert_eq!(o.items.len(), 42);
    let qids: Vec<&str> = vulns.iter().filter_map(|v| v.child_text("QID")).collect();
    assert_eq!(&qids[..3], ["6", "45017", "45038"]);
    assert_eq!(qids.last(), Some(&"150462"));
    let count_type = |t: &str| vulns.iter().filter(|v| v.child_text("VULN_TYPE") == Some(t)).count();
    assert_eq!(count_type("Information Gathered"), 25);
    assert_eq!(count_type("Vulnerability"), 11);
    assert_eq!(count_type("Potential Vulnerability"), 6);
    let by_qid = |q: &str| vulns.iter().find(|v| v.child_text("QID") == Some(q)).unwrap_or_else(|| panic!("QID {q}"));
    assert_eq!(by_qid("6").child_text("TITLE"), Some("DNS Host Name"));
    let diag = by_qid("45017").child_text("DIAGNOSIS").unwrap_or_default();
    assert!(diag.starts_with("Several different techniques can be used to identify the operating system (OS)"));
    assert!(diag.contains("the results of this &quot;fingerprinting&quot; technique"));
    assert!(
        diag.ends_with("These include &quot;MIB_II.system.sysDescr&quot; for the operating system."),
        "trailing newline trimmed"
    );
    assert!(by_qid("150076")
        .child_text("DIAGNOSIS")
        .unwrap_or_default()
        .contains("http://web.site/index.html#&lt;script&gt;alert(42)&lt;/script&gt;"));
    let cves: Vec<&str> = by_qid("150272")
        .child("CVE_LIST")
        .map(|l| l.children.iter().filter_map(|c| c.child_text("ID")).collect())
        .unwrap_or_default();
    assert_eq!(cves, ["CVE-2019-11041", "CVE-2019-11042"]);
    assert_eq!(by_qid("150272").child_text("TITLE"), Some("PHP 7 Multiple Vulnerabilities"));
    let total_cves: usize = vulns.iter().map(|v| v.child("CVE_LIST").map_or(0, |l| l.children.len())).sum();
    assert_eq!(total_cves, 6);
    let intel: Vec<Option<&str>> = by_qid("150001")
        .child("THREAT_INTELLIGENCE")
        .map(|t| t.children.iter().map(|c| c.attr("id")).collect())
        .unwrap_or_default();
    assert_eq!(intel, [Some("8"), Some("13")]);
    assert_eq!(by_qid("150001").child_text("SEVERITY_LEVEL"), Some("5"));
    assert_eq!(
        by_qid("150462").child_text("TITLE"),
        Some("Apache HTTP Server Buffer Overflow Vulnerability (CVE-2021-44790)")
    );
    check_truncations(name, DocKind::KnowledgeBase, &doc, "KNOWLEDGE_BASE_VULN_LIST_OUTPUT", Some("</VULN>"));

    // Every split point of a reduced copy: the prolog, VULNs 45017 (HTML and &quot; in CDATA) and
    // 150076 (the largest, with &lt;script&gt; in CDATA), and the epilogue, cut from the real bytes.
    let starts: Vec<usize> = (0..doc.len()).filter(|&i| doc[i..].starts_with(b"  <VULN>")).collect();
    let ends: Vec<usize> = (0..doc.len()).filter(|&i| doc[i..].starts_with(b"</VULN>\n")).map(|i| i + 8).collect();
    assert_eq!((starts.len(), ends.len()), (42, 42));
    let k = qids.iter().position(|q| *q == "150076").unwrap_or(0);
    let mut reduced = doc[..starts[0]].to_vec();
    reduced.extend_from_slice(&doc[starts[1]..ends[1]]);
    reduced.extend_from_slice(&doc[starts[k]..ends[k]]);
    reduced.extend_from_slice(&doc[ends[41]..]);
    let r = check_all_splits("j1_kb_steps_real.xml (reduced)", DocKind::KnowledgeBase, &reduced);
    assert_eq!(r.result, Ok(()));
    assert_eq!(r.records(), [by_qid("45017").clone(), by_qid("150076").clone()]);
}

#[test]
fn j1_knowledge_base_one_vuln_with_keep_alive_comment() {
    let name = "j1_kb_qid316760_real.xml";
    let doc = load(name);
    let o = check_all_splits(name, DocKind::KnowledgeBase, &doc);
    assert_eq!(o.result, Ok(()));
    assert_eq!(o.items.len(), 1);
    let records = o.records();
    let v = &records[0];
    assert_eq!(v.child_text("QID"), Some("316760"));
    assert_eq!(v.child_text("VULN_TYPE"), Some("Vulnerability or Potential Vulnerability"));
    assert_eq!(
        v.child_text("TITLE"),
        Some("Cisco IOS XE Software Command Injection Vulnerability (cisco-sa-iosxe-cmdinj-2MzhjM6K)")
    );
    assert_eq!(text(v, &["VENDOR_REFERENCE_LIST", "VENDOR_REFERENCE", "ID"]), "cisco-sa-iosxe-cmdinj-2MzhjM6K");
    assert_eq!(text(v, &["CVE_LIST", "CVE", "URL"]), "http://cve.mitre.org/cgi-bin/cvename.cgi?name=CVE-2020-3403");
    let auth: Vec<&str> = v
        .path(&["DISCOVERY", "AUTH_TYPE_LIST"])
        .map(|l| l.children.iter().map(|c| c.text.as_str()).collect())
        .unwrap_or_default();
    assert_eq!(auth, ["Unix", "SNMP", "WEBLOGIC_VULN"]);
    assert!(v.child_text("DIAGNOSIS").unwrap_or_default().contains("using &quot;show version&quot; command"));
    // " A successful exploit ..." in the CDATA: the leading space is trimmed.
    assert!(v.child_text("CONSEQUENCE").unwrap_or_default().starts_with("A successful exploit could allow"));
    assert!(v
        .child_text("SOLUTION")
        .unwrap_or_default()
        .starts_with("<P>Customers are advised to refer to <A HREF=\"https://tools.cisco.com/"));
    check_truncations(name, DocKind::KnowledgeBase, &doc, "KNOWLEDGE_BASE_VULN_LIST_OUTPUT", Some("</VULN>"));
}

#[test]
fn j1_empty_outputs() {
    for (name, kind, root) in [
        ("j1_kb_empty_unknown_qid_real.xml", DocKind::KnowledgeBase, "KNOWLEDGE_BASE_VULN_LIST_OUTPUT"),
        ("j1_hld_empty_real.xml", DocKind::Detections, "HOST_LIST_VM_DETECTION_OUTPUT"),
        ("j1_host_list_empty_real.xml", DocKind::HostList, "HOST_LIST_OUTPUT"),
    ] {
        let doc = load(name);
        let o = check_all_splits(name, kind, &doc);
        assert_eq!(o, Outcome { items: vec![], result: Ok(()) }, "{name}");
        check_truncations(name, kind, &doc, root, None);
    }
}

#[test]
fn j1_host_list_id_set() {
    let name = "j1_host_list_idset_details_none_real.xml";
    let doc = load(name);
    let o = check_all_splits(name, DocKind::HostList, &doc);
    assert_eq!(o, Outcome { items: vec![Item::IdRange { min: 107_800_671, max: 107_800_671 }], result: Ok(()) });
    check_truncations(name, DocKind::HostList, &doc, "HOST_LIST_OUTPUT", None);
}

#[test]
fn j1_simple_returns() {
    /// (fixture, CODE, DATETIME, TEXT, ITEM_LIST entries)
    type Case = (&'static str, &'static str, Option<&'static str>, &'static str, Vec<(&'static str, &'static str)>);
    let cases: [Case; 6] = [
        (
            "j1_simple_return_1905_http400_real.xml",
            "1905",
            Some("2020-09-27T01:23:36Z"),
            "parameter ids has invalid value: abc123 (neither a positive integer nor a range: abc123)",
            vec![],
        ),
        (
            "j1_simple_return_1960_concurrency_docderived.xml",
            "1960",
            Some("2017-04-12T14:52:39Z"),
            "This API cannot be run again until 1 currently running API instance has finished.",
            vec![("CALLS_TO_FINISH", "2")],
        ),
        (
            "j1_simple_return_1965_ratelimit_docderived.xml",
            "1965",
            Some("2017-04-12T14:52:39Z"),
            "This API cannot be run again for another 23 hours, 57 minutes and 54 seconds.",
            vec![("SECONDS_TO_WAIT", "68928")],
        ),
        (
            "j1_simple_return_2001_account_expired_real.xml",
            "2001",
            Some("2020-11-23T18:29:09Z"),
            "This account has expired.",
            vec![],
        ),
        (
            "j1_simple_return_2003_registration_docderived.xml",
            "2003",
            Some("2017-04-12T14:52:39Z"),
            "Registration must be completed before API requests will be served for this account",
            vec![("SECONDS_TO_WAIT", "68928")],
        ),
        (
            "j1_simple_return_2011_secureid_docderived.xml",
            "2011",
            Some("2017-04-12T14:52:39Z"),
            "SecureID authentication is required for this account, so API access is blocked",
            vec![("SECONDS_TO_WAIT", "68928")],
        ),
    ];
    for (name, code, datetime, message, items) in cases {
        let doc = load(name);
        // Recognised whatever the feed expected.
        for kind in [DocKind::Detections, DocKind::KnowledgeBase, DocKind::HostList] {
            let o = check_all_splits(name, kind, &doc);
            let q = qualys_return(&o);
            let want = QualysReturn {
                root: "SIMPLE_RETURN".into(),
                datetime: datetime.map(str::to_string),
                code: Some(code.into()),
                text: message.into(),
                items: items.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect(),
            };
            assert_eq!(q, &want, "{name}");
        }
        check_truncations(name, DocKind::Detections, &doc, "SIMPLE_RETURN", None);
    }
    let q = qualys_return(&whole(DocKind::HostList, &load("j1_simple_return_1965_ratelimit_docderived.xml"))).clone();
    assert_eq!(q.item("SECONDS_TO_WAIT"), Some("68928"));
    // The 1905 body came with HTTP 400 and no XML declaration.
    assert!(load("j1_simple_return_1905_http400_real.xml").starts_with(b"<!DOCTYPE SIMPLE_RETURN"));
}

#[test]
fn data_outputs_for_the_wrong_feed_are_wrong_endpoint() {
    let o = whole(DocKind::Detections, &load("demisto_kb_vulnerabilities_raw.xml"));
    assert_eq!(o.code(), Some(ErrorCode::WrongEndpoint));
    assert!(o.items.is_empty());
    let o = whole(DocKind::KnowledgeBase, &load("j1_host_list_empty_real.xml"));
    assert_eq!(o.code(), Some(ErrorCode::WrongEndpoint));
    let o = whole(DocKind::HostList, &load("demisto_hld_host_list_detections_raw.xml"));
    assert_eq!(o.code(), Some(ErrorCode::WrongEndpoint));
    let (_, message) = o.result.err().unwrap_or_default();
    assert!(message.contains("HOST_LIST_VM_DETECTION_OUTPUT") && message.contains("hostsUrl"), "{message}");
}

/// Every XML fixture on disk is covered by a test above (a new fixture must get its facts).
#[test]
fn every_fixture_is_covered() {
    let covered = [
        "demisto_hld_host_list_detections_raw.xml",
        "demisto_kb_vulnerabilities_raw.xml",
        "j1_hld_empty_real.xml",
        "j1_host_list_empty_real.xml",
        "j1_host_list_idset_details_none_real.xml",
        "j1_kb_empty_unknown_qid_real.xml",
        "j1_kb_qid316760_real.xml",
        "j1_kb_steps_real.xml",
        "j1_simple_return_1905_http400_real.xml",
        "j1_simple_return_1960_concurrency_docderived.xml",
        "j1_simple_return_1965_ratelimit_docderived.xml",
        "j1_simple_return_2001_account_expired_real.xml",
        "j1_simple_return_2003_registration_docderived.xml",
        "j1_simple_return_2011_secureid_docderived.xml",
    ];
    let mut on_disk: Vec<String> = std::fs::read_dir(REAL)
        .map(|d| {
            d.filter_map(|e| e.ok())
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .filter(|n| n.ends_with(".xml"))
                .collect()
        })
        .unwrap_or_default();
    on_disk.sort();
    assert_eq!(on_disk, covered);
}

// ---------------------------------------------------------------------------------------------
// A generated large detections document.

const HOSTS: usize = 2_000;
const DETECTIONS: usize = 10;

fn results_text(host: usize, det: usize) -> String {
    format!(
        "Line one for host {host} detection {det}\nkey\tvalue\t&quot;quoted&quot;\n<B>html</B> -> ]] >\n\n  indented line\nlast line {host}-{det}"
    )
}

fn generated_detections() -> Vec<u8> {
    let mut s = String::with_capacity(14 << 20);
    s.push_str("<?xml version=\"1.0\" encoding=\"UTF-8\" ?>\n");
    s.push_str("<!DOCTYPE HOST_LIST_VM_DETECTION_OUTPUT SYSTEM \"https://qualysapi.qualys.com/api/5.0/fo/asset/host/vm/detection/host_list_vm_detection_output.dtd\">\n");
    s.push_str("<!-- This report was generated with an evaluation version of Qualys //-->\n");
    s.push_str("<HOST_LIST_VM_DETECTION_OUTPUT>\n  <RESPONSE>\n    <DATETIME>2024-05-01T00:00:00Z</DATETIME>\n");
    s.push_str("<!-- keep-alive for HOST_LIST_VM_DETECTION_OUTPUT -->\n    <HOST_LIST>\n");
    for h in 0..HOSTS {
        if h % 250 == 125 {
            s.push_str("<!-- keep-alive for HOST_LIST_VM_DETECTION_OUTPUT -->\n");
        }
        s.push_str(&format!(
            "      <HOST>\n        <ID>{}</ID>\n        <IP>10.{}.{}.{}</IP>\n        <TRACKING_METHOD>IP</TRACKING_METHOD>\n        <OS><![CDATA[Windows Server 2019 Müller-Edition]]></OS>\n        <DNS_DATA><HOSTNAME><![CDATA[host-{h}]]></HOSTNAME><DOMAIN>corp &amp; co</DOMAIN></DNS_DATA>\n        <QDS severity=\"HIGH\">{}</QDS>\n        <DETECTION_LIST>\n",
            5_000_000 + h,
            h / 65536,
            (h / 256) % 256,
            h % 256,
            h % 100
        ));
        for d in 0..DETECTIONS {
            s.push_str(&format!(
                "          <DETECTION>\n            <UNIQUE_VULN_ID>{}</UNIQUE_VULN_ID>\n            <QID>{}</QID>\n            <TYPE>Confirmed</TYPE>\n            <SEVERITY>{}</SEVERITY>\n            <PORT>443</PORT>\n            <PROTOCOL>tcp</PROTOCOL>\n            <RESULTS><![CDATA[{}]]></RESULTS>\n            <STATUS>Active</STATUS>\n            <FIRST_FOUND_DATETIME>2024-01-0{}T10:00:00Z</FIRST_FOUND_DATETIME>\n          </DETECTION>\n",
                h * DETECTIONS + d,
                38_000 + d,
                1 + d % 5,
                results_text(h, d),
                1 + d % 9
            ));
        }
        s.push_str("        </DETECTION_LIST>\n      </HOST>\n");
    }
    s.push_str("    </HOST_LIST>\n    <WARNING>\n      <CODE>1980</CODE>\n      <TEXT>2000 record limit exceeded. Use URL to get next batch of results.</TEXT>\n");
    s.push_str("      <URL><![CDATA[https://qualysapi.qualys.com/api/5.0/fo/asset/host/vm/detection/?action=list&truncation_limit=2000&id_min=5002000]]></URL>\n    </WARNING>\n");
    s.push_str(
        "  </RESPONSE>\n</HOST_LIST_VM_DETECTION_OUTPUT>\n<!-- CONFIDENTIAL AND PROPRIETARY INFORMATION. //-->\n",
    );
    s.into_bytes()
}

fn check_generated(o: &Outcome) {
    assert_eq!(o.result, Ok(()));
    assert_eq!(o.items.len(), HOSTS + 1);
    let hosts = o.records();
    assert_eq!(hosts.len(), HOSTS);
    for (h, host) in hosts.iter().enumerate() {
        assert_eq!(host.child_text("ID"), Some((5_000_000 + h).to_string().as_str()));
        assert_eq!(detections(host).len(), DETECTIONS, "host {h}");
    }
    let first = &hosts[0];
    assert_eq!(first.child_text("IP"), Some("10.0.0.0"));
    assert_eq!(first.child_text("OS"), Some("Windows Server 2019 Müller-Edition"));
    assert_eq!(text(first, &["DNS_DATA", "DOMAIN"]), "corp & co");
    assert_eq!(first.child("QDS").and_then(|q| q.attr("severity")), Some("HIGH"));
    assert_eq!(detections(first)[0].child_text("RESULTS"), Some(results_text(0, 0).as_str()));
    let last = &hosts[HOSTS - 1];
    assert_eq!(text(last, &["DNS_DATA", "HOSTNAME"]), "host-1999");
    assert_eq!(last.child_text("IP"), Some("10.0.7.207"));
    let last_det = detections(last)[DETECTIONS - 1];
    assert_eq!(last_det.child_text("QID"), Some("38009"));
    assert_eq!(last_det.child_text("UNIQUE_VULN_ID"), Some("19999"));
    assert_eq!(last_det.child_text("RESULTS"), Some(results_text(1999, 9).as_str()));
    assert_eq!(
        o.items.last(),
        Some(&Item::NextPage {
            url: "https://qualysapi.qualys.com/api/5.0/fo/asset/host/vm/detection/?action=list&truncation_limit=2000&id_min=5002000".into()
        })
    );
}

#[test]
fn generated_detections_under_random_splits() {
    let doc = generated_detections();
    let started = std::time::Instant::now();
    let want = whole(DocKind::Detections, &doc);
    let secs = started.elapsed().as_secs_f64();
    println!(
        "generated detections document: {:.1} MB, {} hosts x {} detections, parsed whole in {:.3} s = {:.1} MB/s ({} build)",
        doc.len() as f64 / 1e6,
        HOSTS,
        DETECTIONS,
        secs,
        doc.len() as f64 / 1e6 / secs,
        if cfg!(debug_assertions) { "debug" } else { "release" }
    );
    check_generated(&want);
    for (seed, max) in [(7u64, 64usize), (8, 1500), (9, 65_536)] {
        let started = std::time::Instant::now();
        let got = run(DocKind::Detections, Limits::default(), random_chunks(&doc, seed, max));
        let secs = started.elapsed().as_secs_f64();
        println!("  random chunks of 1..={max} bytes: {:.1} MB/s", doc.len() as f64 / 1e6 / secs);
        same(&got, &want, &|| format!("generated document, random chunks seed {seed} max {max}"));
    }
    // Cut inside the last host: every complete host is delivered, the cut one is not.
    let cut = find_last(&doc, b"<HOST>").unwrap_or(0) + 100;
    let o = run(DocKind::Detections, Limits::default(), random_chunks(&doc[..cut], 3, 4096));
    assert_eq!(o.code(), Some(ErrorCode::TruncatedPage));
    assert_eq!(o.records().len(), HOSTS - 1);
    assert_eq!(o.items[..], want.items[..HOSTS - 1]);
}

#[test]
fn generated_detections_record_cap() {
    let doc = generated_detections();
    // One host is about 4.5 kB: a 2 kB cap stops at the first host, naming it and the parameter.
    let limits = Limits { max_record_bytes: 2048 };
    let o = run(DocKind::Detections, limits, [&doc[..]]);
    assert_eq!(o.code(), Some(ErrorCode::RecordTooLarge));
    assert!(o.items.is_empty());
    let (_, message) = o.result.clone().err().unwrap_or_default();
    assert!(message.contains("<HOST>") && message.contains("maxRecordMB"), "{message}");
    let split = run(DocKind::Detections, limits, random_chunks(&doc[..100_000], 5, 300));
    assert_eq!(split.code(), Some(ErrorCode::RecordTooLarge));
    assert!(split.items.is_empty());
}
