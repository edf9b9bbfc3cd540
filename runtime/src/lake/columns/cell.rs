//! One event's value for one column, converted to the column's type, or
//! the reason it does not fit.

use weir_plugin::layout::{Span, Value};
use weir_plugin::time::{Timestamp, days_from_civil};

use super::{ColumnSpec, ColumnType, ConvertError};
use crate::pipeline::encode::span_str;

/// One column's value for one event, converted (text still a span of the
/// batch's text, so the cells of an event can be kept between calls).
#[derive(Clone, Copy)]
pub(super) enum Cell {
    Null,
    Text(Span),
    Int(i64),
    Float(f64),
    Bool(bool),
}

pub(super) fn convert(
    spec: &ColumnSpec,
    value: Option<Value>,
    text: &[u8],
) -> Result<Cell, ConvertError> {
    let mismatch = |found: &str| ConvertError {
        code: "bad-column",
        reason: format!(
            "column `{}` is {}, the event has {found}",
            spec.name,
            spec.kind.name()
        ),
    };
    let value = match value {
        None | Some(Value::Null) if spec.nullable => return Ok(Cell::Null),
        None | Some(Value::Null) => {
            return Err(ConvertError {
                code: "missing-column",
                reason: format!(
                    "column `{}` may not be null, and the event has no value for it",
                    spec.name
                ),
            });
        }
        Some(value) => value,
    };
    let found = |value: Value| match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Int(_) | Value::Float(_) => "a number",
        Value::Text(_) => "a string",
        Value::Json(_) => "an object or array",
    };
    Ok(match (spec.kind, value) {
        (ColumnType::String, Value::Text(span)) => Cell::Text(span),
        (ColumnType::Int64, Value::Int(n)) => Cell::Int(n),
        // 2^63 as a float: the first value an i64 cannot hold.
        (ColumnType::Int64, Value::Float(x))
            if x.fract() == 0.0 && x.abs() < 9.223_372_036_854_776e18 =>
        {
            Cell::Int(x as i64)
        }
        (ColumnType::Double, Value::Int(n)) => Cell::Float(n as f64),
        (ColumnType::Double, Value::Float(x)) => Cell::Float(x),
        (ColumnType::Boolean, Value::Bool(b)) => Cell::Bool(b),
        (ColumnType::Timestamp, Value::Text(span)) => {
            let written = span_str(text, span);
            match Timestamp::parse(written) {
                Ok(time) => Cell::Int(time.unix_micros),
                Err(err) => {
                    return Err(ConvertError {
                        code: "bad-column",
                        reason: format!("column `{}`: {err}", spec.name),
                    });
                }
            }
        }
        (ColumnType::Date, Value::Text(span)) => {
            let written = span_str(text, span);
            match parse_date(written) {
                Some(days) => Cell::Int(days),
                None => {
                    return Err(ConvertError {
                        code: "bad-column",
                        reason: format!(
                            "column `{}`: `{written}` is not a date (YYYY-MM-DD)",
                            spec.name
                        ),
                    });
                }
            }
        }
        (_, value) => return Err(mismatch(found(value))),
    })
}

/// Days since the epoch of `YYYY-MM-DD`, or of the UTC date of a date-time.
fn parse_date(text: &str) -> Option<i64> {
    if text.len() == 10 {
        return weir_plugin::time::parse_date(text).ok();
    }
    let time = Timestamp::parse(text).ok()?;
    Some(days_from_civil(time.year, time.month, time.day))
}
