//! Columns: the table's schema from the pipeline file, and kept events
//! converted by it into Arrow columns (Parquet) or typed JSON objects (JSON
//! lines), straight from their decoded fields (no JSON value tree per
//! event). Pure: no I/O.
//!
//! A field the schema does not name is left out; a column the event lacks is
//! null; a value that does not convert to its column's type makes the event a
//! reject naming the column — never a wrong value, never a panic.

use std::sync::Arc;

use arrow_array::builder::{
    BooleanBuilder, Date32Builder, Float64Builder, Int64Builder, StringBuilder,
    TimestampMicrosecondBuilder,
};
use arrow_array::{ArrayRef, RecordBatch};
use arrow_schema::{DataType, Field as ArrowField, Schema, SchemaRef, TimeUnit};
use serde::Deserialize;
use weir_plugin::layout::{PackedFields, Value};
use weir_plugin::time::Timestamp;

use crate::pipeline::decode::Arena;

mod cell;

use crate::pipeline::encode::{span_str, write_json_f64, write_json_i64, write_json_string};
use cell::{Cell, convert};

/// The type of a column, as the pipeline file names it.
#[derive(Clone, Copy, Debug, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum ColumnType {
    /// UTF-8 text: a JSON string.
    String,
    /// 64-bit integer: a JSON number without fraction.
    Int64,
    /// 64-bit float: any JSON number.
    Double,
    /// A JSON `true` or `false`.
    Boolean,
    /// An ISO-8601 date-time string, stored as microseconds since the epoch
    /// in UTC (Athena cannot read nanoseconds).
    Timestamp,
    /// A `YYYY-MM-DD` string (or a date-time, whose UTC date is taken),
    /// stored as days since the epoch.
    Date,
}

impl ColumnType {
    /// The type's name in the pipeline file and in Athena DDL.
    pub fn name(self) -> &'static str {
        match self {
            ColumnType::String => "string",
            ColumnType::Int64 => "int64",
            ColumnType::Double => "double",
            ColumnType::Boolean => "boolean",
            ColumnType::Timestamp => "timestamp",
            ColumnType::Date => "date",
        }
    }

    fn arrow(self) -> DataType {
        match self {
            ColumnType::String => DataType::Utf8,
            ColumnType::Int64 => DataType::Int64,
            ColumnType::Double => DataType::Float64,
            ColumnType::Boolean => DataType::Boolean,
            ColumnType::Timestamp => DataType::Timestamp(TimeUnit::Microsecond, Some("UTC".into())),
            ColumnType::Date => DataType::Date32,
        }
    }
}

/// One `[[output.column]]` of the pipeline file.
#[derive(Clone, Debug, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct ColumnSpec {
    /// The column's name: the top-level field of the event it is read from.
    pub name: String,
    /// Its type.
    #[serde(rename = "type")]
    pub kind: ColumnType,
    /// May it be null (the field absent or JSON `null`)? Default `true`.
    #[serde(default = "yes")]
    pub nullable: bool,
}

fn yes() -> bool {
    true
}

/// Why a kept event does not fit the schema. `code` is the reject code.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ConvertError {
    /// The reject code written on the dead letter: `missing-column`,
    /// `bad-column`, `bad-partition` or `not-kept`.
    pub code: &'static str,
    /// What does not fit, naming the column or partition key.
    pub reason: String,
}

/// The Arrow schema of a table.
pub fn arrow_schema(columns: &[ColumnSpec]) -> SchemaRef {
    Arc::new(Schema::new(
        columns
            .iter()
            .map(|column| ArrowField::new(&column.name, column.kind.arrow(), column.nullable))
            .collect::<Vec<_>>(),
    ))
}

enum Builder {
    String(StringBuilder),
    Int64(Int64Builder),
    Double(Float64Builder),
    Boolean(BooleanBuilder),
    Timestamp(TimestampMicrosecondBuilder),
    Date(Date32Builder),
}

impl Builder {
    fn new(kind: ColumnType) -> Self {
        match kind {
            ColumnType::String => Builder::String(StringBuilder::new()),
            ColumnType::Int64 => Builder::Int64(Int64Builder::new()),
            ColumnType::Double => Builder::Double(Float64Builder::new()),
            ColumnType::Boolean => Builder::Boolean(BooleanBuilder::new()),
            ColumnType::Timestamp => {
                Builder::Timestamp(TimestampMicrosecondBuilder::new().with_timezone("UTC"))
            }
            ColumnType::Date => Builder::Date(Date32Builder::new()),
        }
    }

    /// Append a converted cell; [`Columns::append`] converted it for this
    /// builder's type, so the pairs below are the only ones that occur.
    fn append(&mut self, cell: Cell, text: &[u8]) {
        match (self, cell) {
            (Builder::String(b), Cell::Text(span)) => b.append_value(span_str(text, span)),
            (Builder::String(b), _) => b.append_null(),
            (Builder::Int64(b), Cell::Int(n)) => b.append_value(n),
            (Builder::Int64(b), _) => b.append_null(),
            (Builder::Double(b), Cell::Float(x)) => b.append_value(x),
            (Builder::Double(b), _) => b.append_null(),
            (Builder::Boolean(b), Cell::Bool(v)) => b.append_value(v),
            (Builder::Boolean(b), _) => b.append_null(),
            (Builder::Timestamp(b), Cell::Int(n)) => b.append_value(n),
            (Builder::Timestamp(b), _) => b.append_null(),
            (Builder::Date(b), Cell::Int(days)) => b.append_value(days as i32),
            (Builder::Date(b), _) => b.append_null(),
        }
    }

    fn finish(&mut self) -> ArrayRef {
        match self {
            Builder::String(b) => Arc::new(b.finish()),
            Builder::Int64(b) => Arc::new(b.finish()),
            Builder::Double(b) => Arc::new(b.finish()),
            Builder::Boolean(b) => Arc::new(b.finish()),
            Builder::Timestamp(b) => Arc::new(b.finish()),
            Builder::Date(b) => Arc::new(b.finish()),
        }
    }
}

/// Kept events accumulating into the columns of one file.
pub struct Columns {
    specs: Arc<[ColumnSpec]>,
    schema: SchemaRef,
    builders: Vec<Builder>,
    rows: usize,
    /// About how many bytes the builders hold: 8 a cell, plus text.
    bytes: usize,
    /// Per name index of the current batch: the column it fills, if any.
    by_name: Vec<Option<usize>>,
    /// The current event's value per column.
    slots: Vec<Option<Value>>,
    /// The current event's converted value per column.
    cells: Vec<Cell>,
}

impl Columns {
    /// Empty columns of a schema.
    pub fn new(specs: Arc<[ColumnSpec]>) -> Self {
        let schema = arrow_schema(&specs);
        let builders = specs.iter().map(|spec| Builder::new(spec.kind)).collect();
        let slots = vec![None; specs.len()];
        let cells = vec![Cell::Null; specs.len()];
        Columns {
            specs,
            schema,
            builders,
            rows: 0,
            bytes: 0,
            by_name: Vec::new(),
            slots,
            cells,
        }
    }

    /// The Arrow schema.
    pub fn schema(&self) -> &SchemaRef {
        &self.schema
    }

    /// Rows appended since the last [`Columns::finish`].
    pub fn rows(&self) -> usize {
        self.rows
    }

    /// About how many bytes the rows appended since the last
    /// [`Columns::finish`] hold (8 a cell, plus their text).
    pub fn bytes(&self) -> usize {
        self.bytes
    }

    /// Map the names of a new batch to columns: call once per batch, before
    /// appending its events.
    pub fn begin_batch(&mut self, arena: &Arena) {
        self.by_name.clear();
        self.by_name.resize(arena.names.len(), None);
        for (column, spec) in self.specs.iter().enumerate() {
            if let Some(name) = arena.lookup(&spec.name) {
                self.by_name[name as usize] = Some(column);
            }
        }
    }

    /// Append one event, or say which column it does not fit; on an error
    /// nothing is appended.
    pub fn append(&mut self, arena: &Arena, fields: &PackedFields) -> Result<(), ConvertError> {
        self.convert(arena, fields)?;
        for (builder, cell) in self.builders.iter_mut().zip(&self.cells) {
            builder.append(*cell, &arena.text);
            self.bytes += 8 + match cell {
                Cell::Text(span) => span.len as usize,
                _ => 0,
            };
        }
        self.rows += 1;
        Ok(())
    }

    /// Write one event as a JSON object of the columns, in order, each value
    /// converted to its type (absent ones `null`; timestamps in UTC with
    /// microseconds, dates as `YYYY-MM-DD`), or say which column it does not
    /// fit; on an error nothing is written.
    pub fn write_json(
        &mut self,
        arena: &Arena,
        fields: &PackedFields,
        out: &mut Vec<u8>,
    ) -> Result<(), ConvertError> {
        self.convert(arena, fields)?;
        out.push(b'{');
        for (index, (spec, cell)) in self.specs.iter().zip(&self.cells).enumerate() {
            if index > 0 {
                out.push(b',');
            }
            write_json_string(out, &spec.name);
            out.push(b':');
            match (spec.kind, *cell) {
                (_, Cell::Null) => out.extend_from_slice(b"null"),
                (ColumnType::Timestamp, Cell::Int(micros)) => {
                    write_json_string(out, &Timestamp::from_unix_micros(micros).to_rfc3339())
                }
                (ColumnType::Date, Cell::Int(days)) => {
                    let day = Timestamp::from_unix_micros(days * 86_400_000_000);
                    write_json_string(out, &day.date_string())
                }
                (_, Cell::Text(span)) => write_json_string(out, span_str(&arena.text, span)),
                (_, Cell::Int(n)) => write_json_i64(out, n),
                (_, Cell::Float(x)) => write_json_f64(out, x),
                (_, Cell::Bool(true)) => out.extend_from_slice(b"true"),
                (_, Cell::Bool(false)) => out.extend_from_slice(b"false"),
            }
        }
        out.push(b'}');
        Ok(())
    }

    /// Convert an event's values into `self.cells`, every column before
    /// any is used, so a failure leaves nothing half done.
    fn convert(&mut self, arena: &Arena, fields: &PackedFields) -> Result<(), ConvertError> {
        self.slots.iter_mut().for_each(|slot| *slot = None);
        for field in fields.iter() {
            if let Some(Some(column)) = self.by_name.get(field.name as usize) {
                self.slots[*column] = Some(field.value);
            }
        }
        for (column, spec) in self.specs.iter().enumerate() {
            self.cells[column] = convert(spec, self.slots[column], &arena.text)?;
        }
        Ok(())
    }

    /// The rows appended so far as one record batch; the columns start empty
    /// again.
    pub fn finish(&mut self) -> RecordBatch {
        self.bytes = 0;
        let arrays = self.builders.iter_mut().map(Builder::finish).collect();
        self.rows = 0;
        RecordBatch::try_new(self.schema.clone(), arrays)
            .expect("builders of the schema's types, appended in step")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pipeline::decode::decode_object;
    use arrow_array::cast::AsArray;
    use arrow_array::types::{Date32Type, Int64Type, TimestampMicrosecondType};

    fn specs(text: &str) -> Arc<[ColumnSpec]> {
        #[derive(Deserialize)]
        struct File {
            column: Vec<ColumnSpec>,
        }
        toml::from_str::<File>(text).unwrap().column.into()
    }

    fn columns() -> Columns {
        Columns::new(specs(
            r#"
            [[column]]
            name = "user_id"
            type = "string"
            nullable = false
            [[column]]
            name = "price"
            type = "double"
            [[column]]
            name = "qty"
            type = "int64"
            [[column]]
            name = "ok"
            type = "boolean"
            [[column]]
            name = "timestamp"
            type = "timestamp"
            [[column]]
            name = "event_date"
            type = "date"
            "#,
        ))
    }

    fn append(columns: &mut Columns, json: &str) -> Result<(), ConvertError> {
        let mut arena = Arena::default();
        let fields = decode_object(json, &mut arena).unwrap();
        columns.begin_batch(&arena);
        columns.append(&arena, &fields)
    }

    #[test]
    fn converts_by_type_and_leaves_absent_fields_null() {
        let mut columns = columns();
        append(
            &mut columns,
            r#"{"user_id":"u1","price":12,"qty":3.0,"ok":true,"timestamp":"2026-02-19T11:05:00.5+01:00","event_date":"2026-02-19","extra":[1]}"#,
        )
        .unwrap();
        append(&mut columns, r#"{"user_id":"u2","price":null}"#).unwrap();
        let batch = columns.finish();
        assert_eq!(batch.num_rows(), 2);
        assert_eq!(batch.num_columns(), 6);
        assert_eq!(batch.column(0).as_string::<i32>().value(1), "u2");
        assert_eq!(
            batch
                .column(1)
                .as_primitive::<arrow_array::types::Float64Type>()
                .value(0),
            12.0
        );
        assert!(batch.column(1).is_null(1));
        assert_eq!(batch.column(2).as_primitive::<Int64Type>().value(0), 3);
        let micros = batch
            .column(4)
            .as_primitive::<TimestampMicrosecondType>()
            .value(0);
        assert_eq!(micros, 1_771_495_500_500_000);
        assert_eq!(
            batch.column(5).as_primitive::<Date32Type>().value(0),
            20_503
        );
        assert!(batch.column(5).is_null(1));
    }

    #[test]
    fn refuses_values_that_do_not_fit_and_appends_nothing() {
        let mut columns = columns();
        for (json, code, column) in [
            (r#"{"price":1}"#, "missing-column", "user_id"),
            (r#"{"user_id":7}"#, "bad-column", "user_id"),
            (r#"{"user_id":"u","qty":1.5}"#, "bad-column", "qty"),
            (r#"{"user_id":"u","qty":1e300}"#, "bad-column", "qty"),
            (r#"{"user_id":"u","ok":"yes"}"#, "bad-column", "ok"),
            (
                r#"{"user_id":"u","timestamp":"19/02/2026"}"#,
                "bad-column",
                "timestamp",
            ),
            (
                r#"{"user_id":"u","event_date":"2026-02-30"}"#,
                "bad-column",
                "event_date",
            ),
            (r#"{"user_id":"u","price":"12"}"#, "bad-column", "price"),
        ] {
            let err = append(&mut columns, json).unwrap_err();
            assert_eq!(err.code, code, "{json}");
            assert!(
                err.reason.contains(&format!("`{column}`")),
                "{json}: {}",
                err.reason
            );
        }
        assert_eq!(columns.rows(), 0);
        assert_eq!(columns.finish().num_rows(), 0);
    }
}
