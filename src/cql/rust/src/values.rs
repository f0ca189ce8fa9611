//! Text in, text out: how CQL values are rendered for C++ and how text parameters become values
//! of a prepared statement's bound column types. Pure; unit-tested with `cargo test`.

use std::net::IpAddr;

use chrono::{DateTime, NaiveDate, NaiveDateTime, TimeDelta, Utc};
use scylla::frame::response::result::{ColumnType, NativeType};
use scylla::value::{Counter, CqlDate, CqlTimestamp, CqlTimeuuid, CqlValue};
use uuid::Uuid;

/// `date` counts days from 2^31 = 1970-01-01.
const DATE_EPOCH: i64 = 1 << 31;

fn unix_epoch() -> NaiveDate {
    NaiveDate::from_ymd_opt(1970, 1, 1).expect("1970-01-01 is a date")
}

/// One value as text: uuids hyphenated, timestamps ISO-8601 UTC with milliseconds
/// (`2024-05-06T07:08:09.010Z`), dates `YYYY-MM-DD`, doubles in their shortest round-trip form,
/// text as is. Collections and other types use the driver's CQL-literal rendering.
pub fn render(value: &CqlValue) -> String {
    match value {
        CqlValue::Text(s) | CqlValue::Ascii(s) => s.clone(),
        CqlValue::Uuid(u) => u.hyphenated().to_string(),
        CqlValue::Timeuuid(u) => u.to_string(),
        CqlValue::Int(v) => v.to_string(),
        CqlValue::BigInt(v) => v.to_string(),
        CqlValue::SmallInt(v) => v.to_string(),
        CqlValue::TinyInt(v) => v.to_string(),
        CqlValue::Counter(c) => c.0.to_string(),
        CqlValue::Double(v) => format!("{v:?}"),
        CqlValue::Float(v) => format!("{v:?}"),
        CqlValue::Boolean(b) => b.to_string(),
        CqlValue::Timestamp(ts) => render_timestamp(ts.0),
        CqlValue::Date(d) => render_date(*d),
        CqlValue::Inet(ip) => ip.to_string(),
        other => other.to_string(),
    }
}

/// Milliseconds since the epoch as ISO-8601 UTC; the bare number when out of chrono's range.
pub fn render_timestamp(millis: i64) -> String {
    match DateTime::<Utc>::from_timestamp_millis(millis) {
        Some(t) => t.format("%Y-%m-%dT%H:%M:%S%.3fZ").to_string(),
        None => millis.to_string(),
    }
}

fn render_date(date: CqlDate) -> String {
    let days = i64::from(date.0) - DATE_EPOCH;
    TimeDelta::try_days(days)
        .and_then(|d| unix_epoch().checked_add_signed(d))
        .map(|d| d.format("%Y-%m-%d").to_string())
        .unwrap_or_else(|| format!("{days} days since 1970-01-01"))
}

/// The CQL name of a column type, for error messages.
pub fn type_name(typ: &ColumnType) -> String {
    match typ {
        ColumnType::Native(n) => match n {
            NativeType::Ascii => "ascii",
            NativeType::Boolean => "boolean",
            NativeType::Blob => "blob",
            NativeType::Counter => "counter",
            NativeType::Date => "date",
            NativeType::Decimal => "decimal",
            NativeType::Double => "double",
            NativeType::Duration => "duration",
            NativeType::Float => "float",
            NativeType::Int => "int",
            NativeType::BigInt => "bigint",
            NativeType::Text => "text",
            NativeType::Timestamp => "timestamp",
            NativeType::Inet => "inet",
            NativeType::SmallInt => "smallint",
            NativeType::TinyInt => "tinyint",
            NativeType::Time => "time",
            NativeType::Timeuuid => "timeuuid",
            NativeType::Uuid => "uuid",
            NativeType::Varint => "varint",
            _ => "an unknown native type",
        }
        .to_string(),
        other => format!("{other:?}"),
    }
}

/// Converts text to a value of `typ`: text/ascii, uuid/timeuuid, int/bigint/smallint/tinyint/
/// counter, double/float, timestamp (ISO-8601, or epoch milliseconds), date (`YYYY-MM-DD`),
/// boolean (true/false/1/0) and inet. The error says what the text should have looked like.
pub fn parse(text: &str, typ: &ColumnType) -> Result<CqlValue, String> {
    let native = match typ {
        ColumnType::Native(n) => n,
        other => {
            return Err(format!("type {} cannot be bound from text", type_name(other)));
        }
    };
    let t = text.trim();
    let number = |what: &str| format!("'{text}' is not {what}");
    match native {
        NativeType::Text => Ok(CqlValue::Text(text.to_owned())),
        NativeType::Ascii if text.is_ascii() => Ok(CqlValue::Ascii(text.to_owned())),
        NativeType::Ascii => Err(format!("'{text}' is not ASCII")),
        NativeType::Uuid => Uuid::parse_str(t)
            .map(CqlValue::Uuid)
            .map_err(|e| format!("'{text}' is not a uuid ({e})")),
        NativeType::Timeuuid => match Uuid::parse_str(t) {
            Ok(u) if u.get_version_num() == 1 => Ok(CqlValue::Timeuuid(CqlTimeuuid::from(u))),
            Ok(_) => Err(format!("'{text}' is not a version 1 (time-based) uuid")),
            Err(e) => Err(format!("'{text}' is not a uuid ({e})")),
        },
        NativeType::Int => t.parse().map(CqlValue::Int).map_err(|_| number("a 32-bit integer")),
        NativeType::BigInt => {
            t.parse().map(CqlValue::BigInt).map_err(|_| number("a 64-bit integer"))
        }
        NativeType::SmallInt => {
            t.parse().map(CqlValue::SmallInt).map_err(|_| number("a 16-bit integer"))
        }
        NativeType::TinyInt => {
            t.parse().map(CqlValue::TinyInt).map_err(|_| number("an 8-bit integer"))
        }
        NativeType::Counter => {
            t.parse().map(|v| CqlValue::Counter(Counter(v))).map_err(|_| number("a 64-bit integer"))
        }
        NativeType::Double => t.parse().map(CqlValue::Double).map_err(|_| number("a number")),
        NativeType::Float => t.parse().map(CqlValue::Float).map_err(|_| number("a number")),
        NativeType::Boolean => match t.to_ascii_lowercase().as_str() {
            "true" | "1" => Ok(CqlValue::Boolean(true)),
            "false" | "0" => Ok(CqlValue::Boolean(false)),
            _ => Err(format!("'{text}' is not a boolean (true, false, 1 or 0)")),
        },
        NativeType::Timestamp => {
            parse_timestamp(t).map(|ms| CqlValue::Timestamp(CqlTimestamp(ms))).ok_or_else(|| {
                format!("'{text}' is not an ISO-8601 timestamp or a number of epoch milliseconds")
            })
        }
        NativeType::Date => parse_date(t)
            .map(CqlValue::Date)
            .ok_or_else(|| format!("'{text}' is not a date (YYYY-MM-DD)")),
        NativeType::Inet => t
            .parse::<IpAddr>()
            .map(CqlValue::Inet)
            .map_err(|_| format!("'{text}' is not an IP address")),
        _ => Err(format!("type {} cannot be bound from text", type_name(typ))),
    }
}

/// Epoch milliseconds from an integer, an RFC 3339 / ISO-8601 timestamp (offset or `Z`; none
/// means UTC; `T` or a space between date and time) or a bare date (midnight UTC).
pub fn parse_timestamp(t: &str) -> Option<i64> {
    let digits = t.strip_prefix('-').unwrap_or(t);
    if !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit()) {
        return t.parse().ok();
    }
    if let Ok(dt) = DateTime::parse_from_rfc3339(t) {
        return Some(dt.timestamp_millis());
    }
    for fmt in ["%Y-%m-%dT%H:%M:%S%.f%#z", "%Y-%m-%d %H:%M:%S%.f%#z", "%Y-%m-%dT%H:%M%#z"] {
        if let Ok(dt) = DateTime::parse_from_str(t, fmt) {
            return Some(dt.timestamp_millis());
        }
    }
    for fmt in ["%Y-%m-%dT%H:%M:%S%.f", "%Y-%m-%d %H:%M:%S%.f", "%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M"]
    {
        if let Ok(dt) = NaiveDateTime::parse_from_str(t, fmt) {
            return Some(dt.and_utc().timestamp_millis());
        }
    }
    NaiveDate::parse_from_str(t, "%Y-%m-%d")
        .ok()
        .map(|d| d.and_hms_opt(0, 0, 0).expect("midnight exists").and_utc().timestamp_millis())
}

fn parse_date(t: &str) -> Option<CqlDate> {
    let date = NaiveDate::parse_from_str(t, "%Y-%m-%d").ok()?;
    let days = date.signed_duration_since(unix_epoch()).num_days() + DATE_EPOCH;
    u32::try_from(days).ok().map(CqlDate)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn native(n: NativeType) -> ColumnType<'static> {
        ColumnType::Native(n)
    }

    #[test]
    fn timestamps_round_trip_as_iso_utc_with_millis() {
        let ms = parse_timestamp("2024-05-06T07:08:09.010Z").unwrap();
        assert_eq!(render_timestamp(ms), "2024-05-06T07:08:09.010Z");
        assert_eq!(parse_timestamp("2024-05-06T09:08:09.010+02:00"), Some(ms));
        assert_eq!(parse_timestamp("2024-05-06 07:08:09.010"), Some(ms));
        assert_eq!(parse_timestamp(&ms.to_string()), Some(ms));
        assert_eq!(parse_timestamp("1970-01-01"), Some(0));
        assert_eq!(parse_timestamp("-1000"), Some(-1000));
        assert_eq!(render_timestamp(0), "1970-01-01T00:00:00.000Z");
        assert_eq!(parse_timestamp("yesterday"), None);
        assert_eq!(parse_timestamp(""), None);
        assert_eq!(parse_timestamp("-"), None);
    }

    #[test]
    fn dates_round_trip() {
        let v = parse("1993-07-20", &native(NativeType::Date)).unwrap();
        assert_eq!(render(&v), "1993-07-20");
        assert_eq!(render(&parse("1970-01-01", &native(NativeType::Date)).unwrap()), "1970-01-01");
        assert!(parse("1993-13-01", &native(NativeType::Date)).is_err());
    }

    #[test]
    fn scalars_parse_and_render() {
        let u = "6f1c3e3a-0b5e-4d4e-9a43-4f3b5f1d2c10";
        assert_eq!(render(&parse(u, &native(NativeType::Uuid)).unwrap()), u);
        assert_eq!(render(&parse(" 42 ", &native(NativeType::Int)).unwrap()), "42");
        assert_eq!(
            render(&parse("-9000000000", &native(NativeType::BigInt)).unwrap()),
            "-9000000000"
        );
        assert_eq!(render(&parse("-33.8688", &native(NativeType::Double)).unwrap()), "-33.8688");
        assert_eq!(render(&parse("TRUE", &native(NativeType::Boolean)).unwrap()), "true");
        assert_eq!(render(&parse(" padded ", &native(NativeType::Text)).unwrap()), " padded ");
        assert_eq!(render(&CqlValue::Double(1.0)), "1.0");
    }

    #[test]
    fn bad_text_says_what_was_expected() {
        let e = parse("12a", &native(NativeType::Int)).unwrap_err();
        assert!(e.contains("'12a' is not a 32-bit integer"), "{e}");
        let e = parse("3000000000", &native(NativeType::Int)).unwrap_err();
        assert!(e.contains("32-bit"), "{e}");
        let e = parse("not-a-uuid", &native(NativeType::Uuid)).unwrap_err();
        assert!(e.contains("is not a uuid"), "{e}");
        let e = parse("maybe", &native(NativeType::Boolean)).unwrap_err();
        assert!(e.contains("boolean"), "{e}");
        let e = parse("x", &native(NativeType::Blob)).unwrap_err();
        assert!(e.contains("blob cannot be bound"), "{e}");
    }
}
