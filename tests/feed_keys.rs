//! Detection keys (`detectionKey`) and the check for keys written twice, driven through a whole
//! feed run against a fake Qualys: every mode writes the key it documents; collisions within one
//! host (two INSTANCEs of one QID), across hosts sharing a DNS name, between hosts without an ID
//! and between detections with one `UNIQUE_VULN_ID` are counted in the summary and the first few
//! named with both host IDs and QIDs; a retried page is not a collision; the device link of hosts
//! without an ID is checked the same way.

mod common;
use qualys_vm_transporter::feed::{Action, Feed, Level, Summary, Tokens};
use qualys_vm_transporter::records::collisions::NAMED;
use qualys_vm_transporter::ErrorCode;

const URL: &str =
    "https://qualysapi.example.com/api/5.0/fo/asset/host/vm/detection/?action=list&vm_scan_since=<LastRunTime>";

/// One detection of the fake page.
struct D {
    uvid: Option<u64>,
    qid: u64,
    port: u16,
    instance: Option<&'static str>,
}

/// One host of the fake page.
struct H {
    id: Option<u64>,
    dns: Option<&'static str>,
    ip: &'static str,
    detections: Vec<D>,
}

fn d(uvid: Option<u64>, qid: u64, port: u16, instance: Option<&'static str>) -> D {
    D { uvid, qid, port, instance }
}

/// A detection-list document (one page, or page `page` of two when `split` is given).
fn document(hosts: &[H], next_url: Option<&str>) -> String {
    let mut s = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\" ?>\n<HOST_LIST_VM_DETECTION_OUTPUT>\n <RESPONSE>\n  <DATETIME>2026-01-01T00:00:00Z</DATETIME>\n  <HOST_LIST>\n");
    for h in hosts {
        s.push_str("   <HOST>\n");
        if let Some(id) = h.id {
            s.push_str(&format!("    <ID>{id}</ID>\n"));
        }
        s.push_str(&format!("    <IP>{}</IP>\n    <TRACKING_METHOD>IP</TRACKING_METHOD>\n", h.ip));
        if let Some(dns) = h.dns {
            s.push_str(&format!("    <DNS><![CDATA[{dns}]]></DNS>\n"));
        }
        s.push_str("    <DETECTION_LIST>\n");
        for x in &h.detections {
            s.push_str("     <DETECTION>\n");
            if let Some(u) = x.uvid {
                s.push_str(&format!("      <UNIQUE_VULN_ID>{u}</UNIQUE_VULN_ID>\n"));
            }
            s.push_str(&format!(
                "      <QID>{}</QID>\n      <TYPE>Confirmed</TYPE>\n      <PORT>{}</PORT>\n      <PROTOCOL>tcp</PROTOCOL>\n      <SSL>0</SSL>\n",
                x.qid, x.port
            ));
            if let Some(i) = x.instance {
                s.push_str(&format!("      <INSTANCE><![CDATA[{i}]]></INSTANCE>\n"));
            }
            s.push_str("      <RESULTS><![CDATA[some result text]]></RESULTS>\n      <FIRST_FOUND_DATETIME>2025-05-01T00:00:00Z</FIRST_FOUND_DATETIME>\n     </DETECTION>\n");
        }
        s.push_str("    </DETECTION_LIST>\n   </HOST>\n");
    }
    s.push_str("  </HOST_LIST>\n");
    if let Some(url) = next_url {
        s.push_str(&format!("  <WARNING>\n   <CODE>1980</CODE>\n   <TEXT>3 record limit exceeded. Use URL to get next batch of results.</TEXT>\n   <URL><![CDATA[{url}]]></URL>\n  </WARNING>\n"));
    }
    s.push_str(" </RESPONSE>\n</HOST_LIST_VM_DETECTION_OUTPUT>\n");
    s
}

/// The subscription: two INSTANCEs of QID 100 on host 1001; host 1002 shares 1001's DNS name and
/// has QID 100 on the same port; host 1003 has no DNS name and no UNIQUE_VULN_ID; two hosts
/// without an ID share a DNS name (and a QID).
fn world() -> Vec<H> {
    vec![
        H {
            id: Some(1001),
            dns: Some("shared.example.com"),
            ip: "10.0.0.1",
            detections: vec![d(Some(9001), 100, 443, Some("db1")), d(Some(9002), 100, 443, Some("db2"))],
        },
        H {
            id: Some(1002),
            dns: Some("shared.example.com"),
            ip: "10.0.0.2",
            detections: vec![d(Some(9003), 200, 80, None), d(Some(9004), 100, 443, Some("db1"))],
        },
        H { id: Some(1003), dns: None, ip: "10.0.0.3", detections: vec![d(None, 300, 22, None)] },
        H {
            id: None,
            dns: Some("nameless.example.com"),
            ip: "10.0.0.4",
            detections: vec![d(Some(9005), 400, 8080, None)],
        },
        H {
            id: None,
            dns: Some("nameless.example.com"),
            ip: "10.0.0.5",
            detections: vec![d(Some(9006), 400, 8080, None)],
        },
    ]
}

struct Run {
    outcome: Option<Result<Summary, qualys_vm_transporter::Error>>,
    output: String,
    warns: Vec<String>,
}

/// Runs a detections feed; `serve(n, url)` answers the n-th request (1-based) with a body and
/// whether to cut the connection after 60% of it.
fn run(extra: &[(&str, &str)], mut serve: impl FnMut(usize, &str) -> (String, bool)) -> Run {
    let params = common::feed_params("detections", URL, "pw-123456", extra);
    let now = 1_767_225_600_000;
    let mut feed = Feed::new(&params, &Tokens::default(), now).expect("valid parameters");
    let mut requests = 0;
    let d = common::drive(&mut feed, now, |feed, req, now| {
        requests += 1;
        let (body, cut) = serve(requests, &req.url);
        feed.handle_response_head(req.id, now, 200, &[]);
        let bytes = body.as_bytes();
        let end = if cut { bytes.len() * 6 / 10 } else { bytes.len() };
        for piece in bytes[..end].chunks(97) {
            feed.handle_body(req.id, piece);
        }
        if cut {
            feed.handle_transport_error(req.id, now, "ECONNRESET", "socket hang up");
        } else {
            feed.handle_response_end(req.id, now);
        }
    });
    Run { outcome: Some(d.outcome), output: d.output, warns: d.warns }
}

/// The ARCHER_DETECTION_KEY of every record, in order.
fn keys(output: &str) -> Vec<String> {
    output
        .split("<ARCHER_DETECTION_KEY>")
        .skip(1)
        .map(|r| r.split("</ARCHER_DETECTION_KEY>").next().unwrap_or("").to_string())
        .collect()
}

fn one_page(_: usize, _: &str) -> (String, bool) {
    (document(&world(), None), false)
}

fn summary(r: &Run) -> &Summary {
    match &r.outcome {
        Some(Ok(s)) => s,
        other => panic!("the run should succeed: {other:?}"),
    }
}

#[test]
fn seed_keys_are_the_old_scripts_and_their_collisions_are_counted_and_named() {
    let r = run(&[], one_page);
    let s = summary(&r);
    assert_eq!(
        keys(&r.output),
        [
            "shared.example.com|100|443|tcp",
            "shared.example.com|100|443|tcp",
            "shared.example.com|200|80|tcp",
            "shared.example.com|100|443|tcp",
            "1003|300|22|tcp|2025-05-01T00:00:00Z",
            "nameless.example.com|400|8080|tcp",
            "nameless.example.com|400|8080|tcp",
        ]
    );
    assert_eq!(s.records, 7, "every detection is written: the check only warns");
    assert_eq!((s.key_collisions, s.device_link_collisions), (3, 1));
    let named: Vec<&String> = r.warns.iter().filter(|w| w.starts_with("detection key collision")).collect();
    assert_eq!(named.len(), 3, "{:#?}", r.warns);
    // Within one host: both sides are host 1001, QID 100.
    assert!(
        named[0].contains("detection QID 100 of host 1001")
            && named[0].contains("detection QID 100 of the same host")
            && named[0].contains("INSTANCE"),
        "{}",
        named[0]
    );
    // Across hosts sharing a DNS name: host 1002 and host 1001.
    assert!(
        named[1].contains("detection QID 100 of host 1002")
            && named[1].contains("detection QID 100 of host 1001")
            && named[1].contains("share the DNS name"),
        "{}",
        named[1]
    );
    assert!(named[1].contains("'shared.example.com|100|443|tcp'"), "{}", named[1]);
    // Two hosts without an ID sharing a DNS name (and a QID and port).
    assert!(
        named[2].contains("detection QID 400 of host (no ID)")
            && named[2].contains("detection QID 400 of host (no ID) already"),
        "{}",
        named[2]
    );
    for w in &named {
        assert!(w.contains("Choose another detectionKey: hostQid"), "{w}");
    }
    let device: Vec<&String> = r.warns.iter().filter(|w| w.starts_with("device link collision")).collect();
    assert_eq!(device.len(), 1);
    assert!(
        device[0].contains("IP 10.0.0.5")
            && device[0].contains("IP 10.0.0.4")
            && device[0].contains("'nameless.example.com'"),
        "{}",
        device[0]
    );
    let last = r.warns.iter().find(|w| w.contains("key_collisions=3")).expect("a closing count with advice");
    assert!(
        last.contains("choose another detectionKey: hostQid") && last.contains("device_link_collisions=1"),
        "{last}"
    );
}

#[test]
fn host_qid_keys_tell_instances_and_hosts_apart() {
    let r = run(&[("detectionKey", "hostQid")], one_page);
    let s = summary(&r);
    assert_eq!(
        keys(&r.output),
        [
            "1001|100|443|tcp|0|db1",
            "1001|100|443|tcp|0|db2",
            "1002|200|80|tcp|0|",
            "1002|100|443|tcp|0|db1",
            "1003|300|22|tcp|0|",
            "|400|8080|tcp|0|",
            "|400|8080|tcp|0|",
        ]
    );
    // Only the two hosts without an ID still collide (a key needs a host ID to be unique).
    assert_eq!((s.key_collisions, s.device_link_collisions), (1, 1));
    let named: Vec<&String> = r.warns.iter().filter(|w| w.starts_with("detection key collision")).collect();
    assert_eq!(named.len(), 1);
    assert!(
        named[0].contains("of host (no ID)")
            && named[0].contains("detection QID 400 of another host")
            && named[0].contains("detectionKey=hostQid")
            && named[0].contains("uniqueVulnId"),
        "{}",
        named[0]
    );
}

#[test]
fn unique_vuln_id_keys_fall_back_to_the_seeds_once_said() {
    let r = run(&[("detectionKey", "uniqueVulnId")], one_page);
    let s = summary(&r);
    assert_eq!(
        keys(&r.output),
        ["9001", "9002", "9003", "9004", "1003|300|22|tcp|2025-05-01T00:00:00Z", "9005", "9006"]
    );
    assert_eq!((s.key_collisions, s.device_link_collisions), (0, 1));
    let fallback: Vec<&String> = r.warns.iter().filter(|w| w.contains("has no UNIQUE_VULN_ID")).collect();
    assert_eq!(fallback.len(), 1, "said once: {:#?}", r.warns);
    assert!(
        fallback[0].contains("QID 300 of host 1003")
            && fallback[0].contains("HOST_ID|QID|PORT|PROTOCOL|FIRST_FOUND_DATETIME"),
        "{}",
        fallback[0]
    );
    assert!(r.warns.iter().any(|w| w.starts_with("key_collisions=0 device_link_collisions=1")), "{:#?}", r.warns);
}

#[test]
fn a_unique_vuln_id_on_two_hosts_is_named_with_both_hosts_and_qids() {
    let hosts = vec![
        H {
            id: Some(7),
            dns: Some("a.example.com"),
            ip: "10.1.0.1",
            detections: vec![d(Some(5555), 11, 1, None), d(None, 12, 2, None), d(None, 13, 3, None)],
        },
        H {
            id: Some(8),
            dns: Some("b.example.com"),
            ip: "10.1.0.2",
            detections: vec![d(Some(6666), 21, 1, None), d(Some(5555), 22, 2, None)],
        },
    ];
    let r = run(&[("detectionKey", "uniqueVulnId")], |_, _| (document(&hosts, None), false));
    let s = summary(&r);
    assert_eq!(s.key_collisions, 1);
    assert_eq!(r.warns.iter().filter(|w| w.contains("has no UNIQUE_VULN_ID")).count(), 1, "two without, said once");
    let named = r.warns.iter().find(|w| w.starts_with("detection key collision")).expect("named");
    assert!(
        named.contains("detection QID 22 of host 8")
            && named.contains("detection QID 11 of host 7")
            && named.contains("the same UNIQUE_VULN_ID")
            && named.contains("'5555'"),
        "{named}"
    );
}

#[test]
fn only_the_first_few_collisions_are_named_all_are_counted() {
    // One host, QID 1 on port 1 twelve times (seed key: DNS|QID|PORT|PROTOCOL).
    let hosts = vec![H {
        id: Some(1),
        dns: Some("x.example.com"),
        ip: "10.2.0.1",
        detections: (0..12).map(|_| d(None, 1, 1, None)).collect(),
    }];
    let r = run(&[], |_, _| (document(&hosts, None), false));
    assert_eq!(summary(&r).key_collisions, 11);
    assert_eq!(r.warns.iter().filter(|w| w.starts_with("detection key collision")).count() as u64, NAMED);
    assert!(r.warns.iter().any(|w| w.contains("key_collisions=11")));
}

#[test]
fn collisions_are_found_across_pages_and_a_retried_page_is_none() {
    let all = world();
    let (first, second) = all.split_at(2);
    let next = "https://qualysapi.example.com/api/5.0/fo/asset/host/vm/detection/?action=list&truncation_limit=500&id_min=1003";
    let r = run(&[], |n, url| match n {
        // Page 1 is cut after 60% the first time, then served whole.
        1 => (document(first, Some(next)), true),
        2 => (document(first, Some(next)), false),
        _ => {
            assert!(url.contains("id_min=1003"), "{url}");
            (document(second, None), false)
        }
    });
    let s = summary(&r);
    assert_eq!(s.retries, 1);
    assert_eq!(s.records, 7, "each detection once");
    assert_eq!(
        (s.key_collisions, s.device_link_collisions),
        (3, 1),
        "the same as in one page; the retry's re-reads are no collision"
    );
}

#[test]
fn a_bad_detection_key_is_a_configuration_error_naming_the_values() {
    let params = common::feed_params("detections", URL, "pw-123456", &[("detectionKey", "HostQid")]);
    let e = Feed::new(&params, &Tokens::default(), 0).expect_err("refused");
    assert_eq!(e.code(), ErrorCode::ConfigInvalid);
    assert!(e.message().contains("detectionKey") && e.message().contains("did you mean hostQid"), "{}", e.message());
    let params = common::feed_params("detections", URL, "pw-123456", &[("detectionKey", "")]);
    assert!(Feed::new(&params, &Tokens::default(), 0).is_ok(), "empty means the default");
}

#[test]
fn hosts_without_an_id_sharing_a_dns_name_are_a_device_link_collision_in_the_host_feeds() {
    let doc = "<HOST_LIST_OUTPUT><RESPONSE><HOST_LIST>\
        <HOST><IP>10.9.0.1</IP><DNS>twin.example.com</DNS></HOST>\
        <HOST><ID>5</ID><IP>10.9.0.2</IP><DNS>twin.example.com</DNS></HOST>\
        <HOST><IP>10.9.0.3</IP><DNS>twin.example.com</DNS></HOST>\
        <HOST><IP>10.9.0.4</IP><DNS>solo.example.com</DNS></HOST>\
        </HOST_LIST></RESPONSE></HOST_LIST_OUTPUT>";
    for source in ["hosts", "hostDetections"] {
        let url = if source == "hosts" {
            "https://qualysapi.example.com/api/5.0/fo/asset/host/?action=list"
        } else {
            "https://qualysapi.example.com/api/5.0/fo/asset/host/vm/detection/?action=list"
        };
        let doc = if source == "hosts" {
            doc.to_string()
        } else {
            doc.replace("HOST_LIST_OUTPUT", "HOST_LIST_VM_DETECTION_OUTPUT")
        };
        let params = common::feed_params(source, url, "pw-123456", &[]);
        let mut feed = Feed::new(&params, &Tokens::default(), 1).expect("valid");
        let mut warns = Vec::new();
        let mut summary = None;
        for _ in 0..20 {
            match feed.poll(2) {
                Action::Send(req) => {
                    feed.handle_response_head(req.id, 2, 200, &[]);
                    feed.handle_body(req.id, doc.as_bytes());
                    feed.handle_response_end(req.id, 2);
                }
                Action::Done(s) => summary = Some(s),
                other => panic!("{other:?}"),
            }
            while let Some(l) = feed.take_log() {
                if l.level == Level::Warn {
                    warns.push(l.text);
                }
            }
            if summary.is_some() {
                break;
            }
        }
        let s = summary.expect("done");
        assert_eq!((s.records, s.device_link_collisions, s.key_collisions), (4, 1, 0), "{source}");
        let w = warns.iter().find(|w| w.starts_with("device link collision")).expect("named");
        assert!(w.contains("IP 10.9.0.3") && w.contains("IP 10.9.0.1"), "{source}: {w}");
    }
}
