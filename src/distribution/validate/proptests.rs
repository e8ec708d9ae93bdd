//! Property tests of the RECORD reader: any content parses or fails with a line number,
//! never a panic; a RECORD written by the CSV rules reads back row for row.

use proptest::prelude::*;

use super::parse_csv;

fn quoted(field: &str) -> String {
    if field.contains([',', '"', '\n', '\r']) || field.is_empty() {
        format!("\"{}\"", field.replace('"', "\"\""))
    } else {
        field.to_string()
    }
}

proptest! {
    #![proptest_config(crate::proptest_config())]

    #[test]
    fn record_never_panics(content in "[a-z,\"\\r\\n=/.]{0,200}|\\PC{0,200}") {
        if let Ok(rows) = parse_csv(&content) {
            for (line, _) in rows {
                prop_assert!(line >= 1);
            }
        }
    }

    #[test]
    fn records_round_trip(rows in proptest::collection::vec(proptest::collection::vec("[a-z,\"\\n ]{0,8}", 3), 1..6)) {
        let text: String = rows
            .iter()
            .map(|row| row.iter().map(|f| quoted(f)).collect::<Vec<_>>().join(",") + "\n")
            .collect();
        let parsed: Vec<Vec<String>> = parse_csv(&text)
            .expect("written by the rules")
            .into_iter()
            .map(|(_, fields)| fields)
            .collect();
        prop_assert_eq!(parsed, rows);
    }
}
