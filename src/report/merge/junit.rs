//! Merging JUnit XML. Files are read into a plain element tree (every element, attribute,
//! text and CDATA section kept), so reports of other tools pass through unchanged instead
//! of losing what a JUnit data model does not know (pytest's `file`/`line` attributes,
//! custom elements). Comments and processing instructions are dropped.
//!
//! The output is one `<testsuites>`: suites of the same name (shards of one run without
//! `--run-id`, or with the same one) become one suite; others stay apart. The counters
//! (`tests`, `failures`, `errors`, `skipped`, `time`) are recomputed from the test cases,
//! since Jenkins trusts them.

use std::collections::HashSet;
use std::fmt::Write as _;

use quick_xml::Reader;
use quick_xml::events::Event;

use super::{Input, MergeError};

#[derive(Debug, Clone, PartialEq)]
enum Node {
    Element(Element),
    Text(String),
    CData(String),
}

#[derive(Debug, Clone, PartialEq)]
struct Element {
    name: String,
    attributes: Vec<(String, String)>,
    children: Vec<Node>,
}

impl Element {
    fn attribute(&self, key: &str) -> Option<&str> {
        self.attributes
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }

    fn set_attribute(&mut self, key: &str, value: String) {
        match self.attributes.iter_mut().find(|(k, _)| k == key) {
            Some(pair) => pair.1 = value,
            None => self.attributes.push((key.to_string(), value)),
        }
    }

    fn elements(&self) -> impl Iterator<Item = &Element> {
        self.children.iter().filter_map(|c| match c {
            Node::Element(e) => Some(e),
            _ => None,
        })
    }
}

/// Counters of a suite, from its test cases (nested suites included).
#[derive(Debug, Default, Clone, Copy, PartialEq)]
pub(crate) struct Counts {
    pub tests: usize,
    pub failures: usize,
    pub errors: usize,
    pub skipped: usize,
    pub time: f64,
}

impl Counts {
    fn add(&mut self, other: Counts) {
        self.tests += other.tests;
        self.failures += other.failures;
        self.errors += other.errors;
        self.skipped += other.skipped;
        self.time += other.time;
    }

    fn of(suite: &Element) -> Counts {
        let mut counts = Counts::default();
        for child in suite.elements() {
            match child.name.as_str() {
                "testcase" => {
                    counts.tests += 1;
                    let has = |name: &str| child.elements().any(|e| e.name == name);
                    if has("failure") {
                        counts.failures += 1;
                    } else if has("error") {
                        counts.errors += 1;
                    } else if has("skipped") {
                        counts.skipped += 1;
                    }
                    counts.time += time_of(child);
                }
                "testsuite" => counts.add(Counts::of(child)),
                _ => {}
            }
        }
        counts
    }

    fn write_to(&self, element: &mut Element, time: f64) {
        element.set_attribute("tests", self.tests.to_string());
        element.set_attribute("failures", self.failures.to_string());
        element.set_attribute("errors", self.errors.to_string());
        element.set_attribute("skipped", self.skipped.to_string());
        element.set_attribute("time", format!("{time:.3}"));
    }
}

fn time_of(element: &Element) -> f64 {
    element
        .attribute("time")
        .and_then(|t| t.trim().parse::<f64>().ok())
        .filter(|t| t.is_finite() && *t >= 0.0)
        .unwrap_or(0.0)
}

/// The merged document and its totals.
#[derive(Debug)]
pub(crate) struct MergedJunit {
    pub xml: String,
    pub suites: usize,
    pub counts: Counts,
}

/// A suite being assembled from the same-named suites of several files.
struct Assembly {
    suite: Element,
    head: Vec<Node>,
    cases: Vec<Node>,
    tail: Vec<Node>,
    seen_cases: HashSet<String>,
    /// Sum of the parts' own `time` (covers set-up outside test cases) when all have one.
    time: Option<f64>,
}

pub(crate) fn merge(inputs: &[Input]) -> Result<MergedJunit, MergeError> {
    let mut root_name: Option<Option<String>> = None;
    let mut assemblies: Vec<Assembly> = Vec::new();
    for input in inputs {
        let root = parse(input)?;
        let (name, suites) = match root.name.as_str() {
            "testsuites" => {
                let mut suites = Vec::new();
                for child in root.elements() {
                    if child.name != "testsuite" {
                        return Err(MergeError::NotJunit {
                            file: input.name.clone(),
                            reason: format!(
                                "<testsuites> contains <{}>, expected only <testsuite>",
                                child.name
                            ),
                        });
                    }
                    suites.push(child.clone());
                }
                (root.attribute("name").map(str::to_string), suites)
            }
            "testsuite" => (None, vec![root]),
            other => {
                return Err(MergeError::NotJunit {
                    file: input.name.clone(),
                    reason: format!(
                        "the root element is <{other}>, expected <testsuites> or <testsuite>"
                    ),
                });
            }
        };
        // The report's name survives when every file agrees on it.
        root_name = match root_name {
            None => Some(name),
            Some(previous) if previous == name => Some(previous),
            Some(_) => Some(None),
        };
        for suite in suites {
            add_suite(&mut assemblies, suite);
        }
    }

    let mut root = Element {
        name: "testsuites".to_string(),
        attributes: vec![(
            "name".to_string(),
            root_name
                .flatten()
                .unwrap_or_else(|| "wheelwright".to_string()),
        )],
        children: Vec::new(),
    };
    let mut total = Counts::default();
    let suites = assemblies.len();
    for assembly in assemblies {
        let mut suite = assembly.suite;
        suite.children = [assembly.head, assembly.cases, assembly.tail].concat();
        let counts = Counts::of(&suite);
        let time = assembly.time.unwrap_or(counts.time);
        counts.write_to(&mut suite, time);
        total.add(Counts { time, ..counts });
        root.children.push(Node::Element(suite));
    }
    total.write_to(&mut root, total.time);

    let mut xml = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    write_element(&mut xml, &root, 0);
    Ok(MergedJunit {
        xml,
        suites,
        counts: total,
    })
}

fn add_suite(assemblies: &mut Vec<Assembly>, mut suite: Element) {
    let name = suite.attribute("name").map(str::to_string);
    let index = match assemblies
        .iter()
        .position(|a| a.suite.attribute("name").map(str::to_string) == name)
    {
        Some(index) => index,
        None => {
            let time = suite.attribute("time").map(|_| 0.0);
            let shell = Element {
                children: Vec::new(),
                ..suite.clone()
            };
            assemblies.push(Assembly {
                suite: shell,
                head: Vec::new(),
                cases: Vec::new(),
                tail: Vec::new(),
                seen_cases: HashSet::new(),
                time,
            });
            assemblies.len() - 1
        }
    };
    let assembly = &mut assemblies[index];
    assembly.time = match (assembly.time, suite.attribute("time")) {
        (Some(sum), Some(_)) => Some(sum + time_of(&suite)),
        _ => None,
    };
    for child in std::mem::take(&mut suite.children) {
        match &child {
            // Indentation between elements is re-done when writing.
            Node::Text(text) if text.trim().is_empty() => {}
            Node::Element(e) if e.name == "testcase" || e.name == "testsuite" => {
                // The same file given twice must not count its cases twice.
                let mut key = String::new();
                write_element(&mut key, e, 0);
                if assembly.seen_cases.insert(key) {
                    assembly.cases.push(child);
                }
            }
            Node::Element(e) if e.name == "properties" => {
                if !assembly.head.contains(&child) {
                    assembly.head.push(child);
                }
            }
            _ => {
                if !assembly.tail.contains(&child) {
                    assembly.tail.push(child);
                }
            }
        }
    }
}

fn parse(input: &Input) -> Result<Element, MergeError> {
    let text = input.text.trim_start_matches('\u{feff}');
    let mut reader = Reader::from_str(text);
    reader.config_mut().check_end_names = true;
    let malformed = |position: u64, message: String| {
        let (line, column) = line_column(text, position as usize);
        MergeError::Xml {
            file: input.name.clone(),
            line,
            column,
            message,
        }
    };
    let mut stack: Vec<Element> = Vec::new();
    let mut root: Option<Element> = None;
    loop {
        let position = reader.buffer_position();
        let event = match reader.read_event() {
            Ok(event) => event,
            Err(e) => {
                return Err(malformed(reader.error_position(), e.to_string()));
            }
        };
        let complete = match event {
            Event::Decl(decl) => {
                if let Some(Ok(encoding)) = decl.encoding() {
                    let encoding = String::from_utf8_lossy(&encoding).to_ascii_lowercase();
                    if encoding != "utf-8" && encoding != "utf8" {
                        return Err(MergeError::NotJunit {
                            file: input.name.clone(),
                            reason: format!(
                                "declares the encoding `{encoding}`; only UTF-8 can be read"
                            ),
                        });
                    }
                }
                None
            }
            Event::Start(start) => {
                stack.push(element(&start, input, position, text)?);
                None
            }
            Event::Empty(start) => Some(element(&start, input, position, text)?),
            Event::End(_) => stack.pop(),
            Event::Text(t) => {
                let content = t
                    .xml10_content()
                    .map_err(|e| malformed(position, e.to_string()))?;
                push_text(&mut stack, &content, |what| malformed(position, what))?;
                None
            }
            Event::GeneralRef(r) => {
                let resolved = match r
                    .resolve_char_ref()
                    .map_err(|e| malformed(position, e.to_string()))?
                {
                    Some(c) => c.to_string(),
                    None => {
                        let name = r.decode().map_err(|e| malformed(position, e.to_string()))?;
                        quick_xml::escape::resolve_predefined_entity(&name)
                            .ok_or_else(|| {
                                malformed(position, format!("unknown entity `&{name};`"))
                            })?
                            .to_string()
                    }
                };
                push_text(&mut stack, &resolved, |what| malformed(position, what))?;
                None
            }
            Event::CData(c) => {
                let content = c
                    .decode()
                    .map_err(|e| malformed(position, e.to_string()))?
                    .into_owned();
                match stack.last_mut() {
                    Some(parent) => parent.children.push(Node::CData(content)),
                    None => {
                        return Err(malformed(
                            position,
                            "CDATA outside the root element".to_string(),
                        ));
                    }
                }
                None
            }
            Event::Comment(_) | Event::PI(_) | Event::DocType(_) => None,
            Event::Eof => break,
        };
        if let Some(done) = complete {
            match stack.last_mut() {
                Some(parent) => parent.children.push(Node::Element(done)),
                None if root.is_none() => root = Some(done),
                None => {
                    return Err(malformed(position, "a second root element".to_string()));
                }
            }
        }
    }
    if let Some(open) = stack.last() {
        let end = text.len() as u64;
        return Err(malformed(
            end,
            format!("the file ends inside <{}>", open.name),
        ));
    }
    root.ok_or_else(|| MergeError::NotJunit {
        file: input.name.clone(),
        reason: "no root element".to_string(),
    })
}

fn element(
    start: &quick_xml::events::BytesStart<'_>,
    input: &Input,
    position: u64,
    text: &str,
) -> Result<Element, MergeError> {
    let error = |message: String| {
        let (line, column) = line_column(text, position as usize);
        MergeError::Xml {
            file: input.name.clone(),
            line,
            column,
            message,
        }
    };
    let name = String::from_utf8_lossy(start.name().as_ref()).into_owned();
    let mut attributes = Vec::new();
    for attribute in start.attributes() {
        let attribute = attribute.map_err(|e| error(e.to_string()))?;
        let key = String::from_utf8_lossy(attribute.key.as_ref()).into_owned();
        let value = attribute
            .normalized_value(quick_xml::XmlVersion::Implicit1_0)
            .map_err(|e| error(format!("attribute `{key}` of <{name}>: {e}")))?
            .into_owned();
        attributes.push((key, value));
    }
    Ok(Element {
        name,
        attributes,
        children: Vec::new(),
    })
}

fn push_text(
    stack: &mut [Element],
    content: &str,
    error: impl Fn(String) -> MergeError,
) -> Result<(), MergeError> {
    match stack.last_mut() {
        Some(parent) => {
            if let Some(Node::Text(previous)) = parent.children.last_mut() {
                previous.push_str(content);
            } else {
                parent.children.push(Node::Text(content.to_string()));
            }
            Ok(())
        }
        None if content.trim().is_empty() => Ok(()),
        None => Err(error("text outside the root element".to_string())),
    }
}

/// 1-based line and column (in characters) of a byte offset.
fn line_column(text: &str, offset: usize) -> (usize, usize) {
    let mut offset = offset.min(text.len());
    while !text.is_char_boundary(offset) {
        offset -= 1;
    }
    let before = &text[..offset];
    let line = before.matches('\n').count() + 1;
    let column = before.rsplit('\n').next().unwrap_or("").chars().count() + 1;
    (line, column)
}

/// Indents element-only content; content with text is written exactly as read.
fn write_element(out: &mut String, element: &Element, depth: usize) {
    let indent = "    ".repeat(depth);
    let _ = write!(out, "{indent}<{}", element.name);
    for (key, value) in &element.attributes {
        let _ = write!(out, " {key}=\"{}\"", escape(value, true));
    }
    let has_text = element.children.iter().any(|c| match c {
        Node::Text(t) => !t.trim().is_empty(),
        Node::CData(_) => true,
        Node::Element(_) => false,
    });
    let elements = element.elements().count();
    if element.children.is_empty() || (!has_text && elements == 0) {
        out.push_str("/>\n");
    } else if !has_text {
        out.push_str(">\n");
        for child in element.elements() {
            write_element(out, child, depth + 1);
        }
        let _ = writeln!(out, "{indent}</{}>", element.name);
    } else {
        out.push('>');
        write_inline(out, &element.children);
        let _ = writeln!(out, "</{}>", element.name);
    }
}

fn write_inline(out: &mut String, children: &[Node]) {
    for child in children {
        match child {
            Node::Text(t) => out.push_str(&escape(t, false)),
            // `]]>` cannot appear inside CDATA: split it across two sections.
            Node::CData(c) => {
                let _ = write!(out, "<![CDATA[{}]]>", c.replace("]]>", "]]]]><![CDATA[>"));
            }
            Node::Element(e) => {
                let _ = write!(out, "<{}", e.name);
                for (key, value) in &e.attributes {
                    let _ = write!(out, " {key}=\"{}\"", escape(value, true));
                }
                if e.children.is_empty() {
                    out.push_str("/>");
                } else {
                    out.push('>');
                    write_inline(out, &e.children);
                    let _ = write!(out, "</{}>", e.name);
                }
            }
        }
    }
}

/// XML escaping; in attributes also the whitespace characters that attribute-value
/// normalisation would otherwise turn into spaces on the next read.
fn escape(text: &str, attribute: bool) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' if attribute => out.push_str("&quot;"),
            '\n' if attribute => out.push_str("&#10;"),
            '\t' if attribute => out.push_str("&#9;"),
            '\r' => out.push_str("&#13;"),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn input(name: &str, text: &str) -> Input {
        Input {
            name: name.to_string(),
            text: text.to_string(),
        }
    }

    const SHARD_0: &str = r#"<?xml version="1.0" encoding="UTF-8"?>
<testsuites name="wheelwright" tests="2" failures="1" errors="0">
    <testsuite name="wheelwright" tests="2" disabled="0" errors="0" failures="1">
        <testcase name="ww-alpha==1.0 (cp311)" classname="wheelwright.ww-alpha" time="0.5">
        </testcase>
        <testcase name="ww-bravo==1.0 (cp311)" classname="wheelwright.ww-bravo" time="0.25">
            <failure message="no wheel &amp; no sdist" type="failed">tail &lt;1&gt;</failure>
            <system-err><![CDATA[log <tail> & more]]></system-err>
        </testcase>
    </testsuite>
</testsuites>
"#;

    const SHARD_1: &str = r#"<testsuites name="wheelwright">
    <testsuite name="wheelwright" tests="1">
        <testcase name="ww-echo-pkg==1.0 (cp311)" classname="wheelwright.ww-echo-pkg">
            <skipped message="present: already on the target"/>
        </testcase>
    </testsuite>
    <testsuite name="wheelwright.linux-cp312" tests="1" time="2">
        <testcase name="ww-alpha==1.0 (cp312) [linux-cp312]" file="a.py" line="3"/>
    </testsuite>
</testsuites>"#;

    #[test]
    fn same_named_suites_merge_and_counters_are_recomputed() {
        let merged = merge(&[input("0.xml", SHARD_0), input("1.xml", SHARD_1)]).unwrap();
        assert_eq!(merged.suites, 2);
        assert_eq!(
            (
                merged.counts.tests,
                merged.counts.failures,
                merged.counts.skipped
            ),
            (4, 1, 1)
        );
        let again = parse(&input("m.xml", &merged.xml)).unwrap();
        assert_eq!(again.attribute("tests"), Some("4"));
        let suites: Vec<&Element> = again.elements().collect();
        assert_eq!(suites[0].attribute("name"), Some("wheelwright"));
        assert_eq!(suites[0].attribute("tests"), Some("3"));
        assert_eq!(suites[0].attribute("failures"), Some("1"));
        assert_eq!(suites[0].attribute("skipped"), Some("1"));
        assert_eq!(suites[0].attribute("disabled"), Some("0"));
        assert_eq!(suites[1].attribute("time"), Some("2.000"));
        // Other tools' attributes, escapes and CDATA survive the round trip.
        let case = suites[1].elements().next().unwrap();
        assert_eq!(case.attribute("file"), Some("a.py"));
        let failing = suites[0].elements().nth(1).unwrap();
        let failure = failing.elements().next().unwrap();
        assert_eq!(failure.attribute("message"), Some("no wheel & no sdist"));
        assert_eq!(failure.children, vec![Node::Text("tail <1>".to_string())]);
        let err = failing.elements().nth(1).unwrap();
        assert_eq!(
            err.children,
            vec![Node::CData("log <tail> & more".to_string())]
        );
    }

    #[test]
    fn the_same_file_twice_counts_once() {
        let merged = merge(&[input("0.xml", SHARD_0), input("0.xml", SHARD_0)]).unwrap();
        assert_eq!(merged.counts.tests, 2);
    }

    #[test]
    fn a_bare_testsuite_root_is_accepted() {
        let merged = merge(&[input(
            "s.xml",
            "<testsuite name=\"x\"><testcase name=\"a\"/></testsuite>",
        )])
        .unwrap();
        assert_eq!((merged.suites, merged.counts.tests), (1, 1));
    }

    #[test]
    fn unreadable_files_are_refused_with_where_and_why() {
        let err = |text: &str| merge(&[input("r.xml", text)]).unwrap_err().to_string();
        let e = err("<testsuites>\n  <testsuite>\n  </testcase>\n</testsuites>");
        assert!(e.starts_with("r.xml:3:"), "{e}");
        assert!(e.contains("malformed XML"), "{e}");
        let e = err("<html><body/></html>");
        assert!(e.contains("root element is <html>"), "{e}");
        let e = err("<testsuites><foo/></testsuites>");
        assert!(e.contains("contains <foo>"), "{e}");
        let e = err("<testsuites><testsuite>");
        assert!(e.contains("ends inside <testsuite>"), "{e}");
        let e = err("<testsuites>&nbsp;</testsuites>");
        assert!(e.contains("unknown entity `&nbsp;`"), "{e}");
        let e = err("<?xml version=\"1.0\" encoding=\"ISO-8859-1\"?><testsuites/>");
        assert!(e.contains("only UTF-8"), "{e}");
        let e = err("<testsuites/><testsuites/>");
        assert!(e.contains("second root element"), "{e}");
    }

    #[test]
    fn attribute_whitespace_and_quotes_round_trip() {
        let text = "<testsuite name=\"a&#10;b\"><testcase name=\"q&quot;\tx\"/></testsuite>";
        let merged = merge(&[input("s.xml", text)]).unwrap();
        let root = parse(&input("m.xml", &merged.xml)).unwrap();
        let suite = root.elements().next().unwrap();
        assert_eq!(suite.attribute("name"), Some("a\nb"));
        assert_eq!(
            suite.elements().next().unwrap().attribute("name"),
            Some("q\" x")
        );
    }
}
