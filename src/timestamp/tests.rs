use proptest::prelude::*;

use super::{Timestamp, civil_from_days, days_from_civil};

fn at(text: &str) -> Timestamp {
    text.parse().unwrap()
}

#[test]
fn writes_utc_with_a_fraction_only_when_there_is_one() {
    assert_eq!(Timestamp::from_unix(0).to_string(), "1970-01-01T00:00:00Z");
    assert_eq!(
        Timestamp::from_unix(315_532_800).to_string(),
        "1980-01-01T00:00:00Z"
    );
    assert_eq!(
        Timestamp::from_unix(951_782_400).to_string(),
        "2000-02-29T00:00:00Z"
    );
    assert_eq!(
        Timestamp::from_unix(1_709_164_800).to_string(),
        "2024-02-29T00:00:00Z"
    );
    assert_eq!(
        Timestamp::from_unix(4_102_444_799).to_string(),
        "2099-12-31T23:59:59Z"
    );
    assert_eq!(
        at("2026-12-05T10:11:12.5Z").to_string(),
        "2026-12-05T10:11:12.500000Z"
    );
    assert_eq!(Timestamp::from_unix(-1).to_string(), "1969-12-31T23:59:59Z");
}

#[test]
fn reads_offsets_fractions_and_the_forms_pep_700_and_toml_use() {
    assert_eq!(at("2026-12-05T12:11:12+02:00"), at("2026-12-05T10:11:12Z"));
    assert_eq!(at("2026-12-05t10:11:12z"), at("2026-12-05 10:11:12Z"));
    assert_eq!(
        at("2026-12-05T10:11:12.1234567891Z").unix_micros() % 1_000_000,
        123_456
    );
    assert_eq!(
        at("2016-12-31T23:59:60Z"),
        at("2016-12-31T23:59:59.999999Z")
    );
    for bad in [
        "",
        "2026-12-05",
        "2026-12-05T10:11:12",
        "2026-13-05T10:11:12Z",
        "2026-02-30T10:11:12Z",
        "2025-02-29T00:00:00Z",
        "2026-12-05T24:00:00Z",
        "2026-12-05T10:11:12.Z",
        "2026-12-05T10:11:12+2:00",
        "2026-12-05T10:11:12+24:00",
        "+026-12-05T10:11:12Z",
        "2026-12-05T10:11:12Z ",
    ] {
        let error = bad.parse::<Timestamp>().unwrap_err();
        assert!(error.to_string().contains("RFC 3339"), "{bad}: {error}");
    }
}

#[test]
fn serde_is_the_text() {
    let time = at("2026-12-05T10:11:12.000001Z");
    let json = serde_json::to_string(&time).unwrap();
    assert_eq!(json, "\"2026-12-05T10:11:12.000001Z\"");
    assert_eq!(serde_json::from_str::<Timestamp>(&json).unwrap(), time);
    assert!(serde_json::from_str::<Timestamp>("\"yesterday\"").is_err());
}

proptest! {
    #![proptest_config(crate::proptest_config())]

    /// Consecutive days are consecutive dates: the day advances by one, or the month (or
    /// the year) turns over to its first day; and the inverse gives the day back.
    #[test]
    fn civil_dates_advance_one_day_at_a_time(days in -800_000i64..2_000_000) {
        let (y, m, d) = civil_from_days(days);
        let (y2, m2, d2) = civil_from_days(days + 1);
        prop_assert!(
            (y2, m2, d2) == (y, m, d + 1)
                || (y2 == y && m2 == m + 1 && d2 == 1 && d >= 28)
                || (y2 == y + 1 && m == 12 && m2 == 1 && d == 31 && d2 == 1),
            "{days}: {y}-{m}-{d} then {y2}-{m2}-{d2}"
        );
        prop_assert_eq!(days_from_civil(y, i64::from(m), i64::from(d)), days);
    }

    /// Every written time reads back as itself (years 0–9999, the four digits RFC 3339 has).
    #[test]
    fn written_times_read_back(micros in -62_167_219_200_000_000i64..253_402_300_799_999_999) {
        let time = Timestamp { micros };
        prop_assert_eq!(time.to_string().parse::<Timestamp>().unwrap(), time);
    }

    /// Outside text never panics the reader.
    #[test]
    fn any_text_is_read_or_refused(text in "\\PC{0,40}") {
        let _ = text.parse::<Timestamp>();
    }
}
