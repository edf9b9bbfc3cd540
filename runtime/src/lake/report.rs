//! `weir report`: one self-contained HTML page answering the seed questions
//! from the lake, with the SQL of `athena/queries`, drawn with Chart.js.
//!
//! The page is `report/template.html` with the chart library and the
//! answers inlined, so it opens anywhere without a network. The answers are
//! JSON: `{"title", "lake", "generated", "range", "panels": {"<id>":
//! {"query", "sql", "columns", "rows"}}}`, each panel the answer of
//! `athena/queries/<id>.sql`.

use serde_json::{Map, Value, json};
use thiserror::Error;

use datafusion::prelude::SessionContext;

use crate::lake::query::{QueryError, session};
use crate::storage::{Location, S3Options};

const TEMPLATE: &str = include_str!("report/template.html");
const LIBRARY: &str = include_str!("report/vendor/chart.umd.min.js");
const LIBRARY_PLACEHOLDER: &str = "<!--WEIR:LIBRARY-->";
const DATA_PLACEHOLDER: &str = "/*WEIR:DATA*/null";

/// The events table and its dead letters, as `weir query` names them.
const EVENTS: &str = "ecommerce_events";
const ERRORS: &str = "ecommerce_events_errors";

/// Each panel: its id (the query's file name) and the query.
const PANELS: &[(&str, &str)] = &[
    (
        "top_cart_categories",
        include_str!("../../../athena/queries/top_cart_categories.sql"),
    ),
    (
        "device_behaviour",
        include_str!("../../../athena/queries/device_behaviour.sql"),
    ),
    (
        "cart_trend_daily",
        include_str!("../../../athena/queries/cart_trend_daily.sql"),
    ),
    (
        "cart_trend_hourly",
        include_str!("../../../athena/queries/cart_trend_hourly.sql"),
    ),
    (
        "high_value_interest",
        include_str!("../../../athena/queries/high_value_interest.sql"),
    ),
    (
        "rejects_by_code",
        include_str!("../../../athena/queries/rejects_by_code.sql"),
    ),
    (
        "rejects_by_plugin",
        include_str!("../../../athena/queries/rejects_by_plugin.sql"),
    ),
];

/// Why a report could not be made.
#[derive(Debug, Error)]
pub enum ReportError {
    /// The lake could not be queried.
    #[error(transparent)]
    Query(#[from] QueryError),
    /// The lake holds no table of that name.
    #[error(
        "the lake at {lake} holds no table `{table}` (tables there: {tables}): run a pipeline into it first, or name another with --table"
    )]
    NoTable {
        /// The lake.
        lake: String,
        /// The table asked for.
        table: String,
        /// The tables there are, comma-separated, or `none`.
        tables: String,
    },
    /// One of the report's queries failed.
    #[error("query {query}")]
    Panel {
        /// The query.
        query: String,
        /// Why it failed.
        #[source]
        source: QueryError,
    },
    /// The dates asked for are not a range.
    #[error("{0}")]
    Range(String),
}

/// Which event dates a report covers, both ends included.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct DateRange {
    /// First day, `YYYY-MM-DD`.
    pub from: Option<String>,
    /// Last day, `YYYY-MM-DD`.
    pub to: Option<String>,
}

impl DateRange {
    fn is_all(&self) -> bool {
        self.from.is_none() && self.to.is_none()
    }

    /// An SQL condition on a date expression, `TRUE` for all dates.
    fn condition(&self, expression: &str) -> String {
        let mut parts = Vec::new();
        if let Some(from) = &self.from {
            parts.push(format!("{expression} >= DATE '{from}'"));
        }
        if let Some(to) = &self.to {
            parts.push(format!("{expression} <= DATE '{to}'"));
        }
        if parts.is_empty() {
            "TRUE".to_string()
        } else {
            parts.join(" AND ")
        }
    }
}

/// Check a `YYYY-MM-DD` day given on the command line.
pub fn check_day(flag: &str, text: &str) -> Result<String, ReportError> {
    let ok = text.len() == 10
        && weir_plugin::time::Timestamp::parse(&format!("{text}T00:00:00Z")).is_ok();
    if ok {
        Ok(text.to_string())
    } else {
        Err(ReportError::Range(format!(
            "{flag} {text:?} is not a day: write YYYY-MM-DD"
        )))
    }
}

/// Run every panel's query over the lake and build the page.
pub async fn build(
    lake: &Location,
    s3: &S3Options,
    table: &str,
    range: &DateRange,
) -> Result<String, ReportError> {
    let context = session(lake, s3).await?;
    name_the_tables(&context, lake, table)?;
    let has_errors = context.table_exist(ERRORS).map_err(QueryError::from)?;
    if !range.is_all() {
        narrow(&context, range, has_errors).await?;
    }
    let mut panels = Map::new();
    for (id, sql) in PANELS {
        let query = format!("{id}.sql");
        let (columns, rows) = if sql.contains(ERRORS) && !has_errors {
            (columns_of(sql), Vec::new())
        } else {
            let panel_error = |source: QueryError| ReportError::Panel {
                query: query.clone(),
                source,
            };
            let frame = context
                .sql(sql)
                .await
                .map_err(|err| panel_error(err.into()))?;
            let batches = frame
                .collect()
                .await
                .map_err(|err| panel_error(err.into()))?;
            answer(&batches).map_err(panel_error)?
        };
        panels.insert(
            id.to_string(),
            json!({"query": query, "sql": sql, "columns": columns, "rows": rows}),
        );
    }
    Ok(fill(&page_data(lake, range, panels)))
}

/// Give `table` (and its dead letters) the names the panels' queries use,
/// or fail naming the tables the lake has.
fn name_the_tables(
    context: &SessionContext,
    lake: &Location,
    table: &str,
) -> Result<(), ReportError> {
    if !context.table_exist(table).map_err(QueryError::from)? {
        let tables = crate::lake::query::table_names(context);
        return Err(ReportError::NoTable {
            lake: lake.to_string(),
            table: table.to_string(),
            tables: if tables.is_empty() {
                "none".to_string()
            } else {
                tables.join(", ")
            },
        });
    }
    if table == EVENTS {
        return Ok(());
    }
    for (name, alias) in [
        (table.to_string(), EVENTS),
        (format!("{table}_errors"), ERRORS),
    ] {
        context.deregister_table(alias).map_err(QueryError::from)?;
        if let Some(provider) = context.deregister_table(&name).map_err(QueryError::from)? {
            context
                .register_table(alias, provider)
                .map_err(QueryError::from)?;
        }
    }
    Ok(())
}

/// Put views of `range` where the tables were, under their names: the
/// queries name the tables.
async fn narrow(
    context: &SessionContext,
    range: &DateRange,
    has_errors: bool,
) -> Result<(), ReportError> {
    for (table, condition) in [
        (EVENTS, range.condition("CAST(event_date AS DATE)")),
        (ERRORS, range.condition("CAST(dt AS DATE)")),
    ] {
        if table == ERRORS && !has_errors {
            continue;
        }
        let all = format!("weir_all_{table}");
        let provider = context
            .deregister_table(table)
            .map_err(QueryError::from)?
            .expect("the table exists");
        context
            .register_table(&all, provider)
            .map_err(QueryError::from)?;
        context
            .sql(&format!(
                "CREATE VIEW {table} AS SELECT * FROM {all} WHERE {condition}"
            ))
            .await
            .map_err(QueryError::from)?;
    }
    Ok(())
}

/// What the page shows: its title, the lake, when it was made, the range
/// and the panels' answers.
fn page_data(lake: &Location, range: &DateRange, panels: Map<String, Value>) -> Value {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |since| since.as_micros() as i64);
    let generated = weir_plugin::time::Timestamp::from_unix_micros(now - now % 1_000_000);
    let range_json = if range.is_all() {
        Value::Null
    } else {
        json!({"from": range.from, "to": range.to})
    };
    json!({
        "title": "Clickstream report",
        "lake": lake.to_string(),
        "generated": generated.to_rfc3339().replace(".000000Z", "Z"),
        "range": range_json,
        "panels": panels,
    })
}

/// The names of an answer's columns, from the query's `SELECT` list, for a
/// panel whose table does not exist (so the page can still label it).
fn columns_of(sql: &str) -> Vec<String> {
    let sql: String = sql
        .lines()
        .filter(|line| !line.trim_start().starts_with("--"))
        .collect::<Vec<_>>()
        .join("\n");
    let lower = sql.to_ascii_lowercase();
    let start = lower.find("select").map_or(0, |at| at + "select".len());
    let end = lower.find("from").unwrap_or(sql.len());
    sql[start..end]
        .split(',')
        .map(|item| {
            let item = item.trim();
            let lower = item.to_ascii_lowercase();
            match lower.rfind(" as ") {
                Some(at) => item[at + 4..].trim().to_string(),
                None => item.to_string(),
            }
        })
        .collect()
}

/// An answer as column names and rows of JSON values (numbers as numbers,
/// dates and text as strings, NULL as null), in the answer's column order.
fn answer(
    batches: &[datafusion::arrow::record_batch::RecordBatch],
) -> Result<(Vec<String>, Vec<Vec<Value>>), QueryError> {
    let Some(first) = batches.first() else {
        return Ok((Vec::new(), Vec::new()));
    };
    let columns: Vec<String> = first
        .schema()
        .fields()
        .iter()
        .map(|field| field.name().clone())
        .collect();
    let mut out = Vec::new();
    {
        let mut writer = datafusion::arrow::json::WriterBuilder::new()
            .with_explicit_nulls(true)
            .build::<_, datafusion::arrow::json::writer::JsonArray>(&mut out);
        for batch in batches {
            writer.write(batch)?;
        }
        writer.finish()?;
    }
    let objects: Vec<Map<String, Value>> = if out.is_empty() {
        Vec::new()
    } else {
        serde_json::from_slice(&out).map_err(|err| {
            QueryError::Format(datafusion::arrow::error::ArrowError::JsonError(
                err.to_string(),
            ))
        })?
    };
    let rows = objects
        .into_iter()
        .map(|mut object| {
            columns
                .iter()
                .map(|column| object.remove(column).unwrap_or(Value::Null))
                .collect()
        })
        .collect();
    Ok((columns, rows))
}

/// The template with the library and `data` inlined. The data is JSON with
/// `<`, `>`, `&`, U+2028 and U+2029 escaped, so nothing in it (an SQL
/// comment, a path) can end the script element it sits in.
fn fill(data: &Value) -> String {
    let mut json = String::new();
    for c in data.to_string().chars() {
        match c {
            '<' => json.push_str("\\u003c"),
            '>' => json.push_str("\\u003e"),
            '&' => json.push_str("\\u0026"),
            '\u{2028}' => json.push_str("\\u2028"),
            '\u{2029}' => json.push_str("\\u2029"),
            c => json.push(c),
        }
    }
    let (head, rest) = TEMPLATE
        .split_once(LIBRARY_PLACEHOLDER)
        .expect("the template holds the library placeholder");
    let (middle, tail) = rest
        .split_once(DATA_PLACEHOLDER)
        .expect("the template holds the data placeholder after the library's");
    let mut page = String::with_capacity(TEMPLATE.len() + LIBRARY.len() + json.len() + 32);
    page.push_str(head);
    page.push_str("<script>");
    page.push_str(LIBRARY);
    page.push_str("</script>");
    page.push_str(middle);
    page.push_str(&json);
    page.push_str(tail);
    page
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_template_takes_each_placeholder_once_and_the_library_inlines() {
        assert_eq!(TEMPLATE.matches(LIBRARY_PLACEHOLDER).count(), 1);
        assert_eq!(TEMPLATE.matches(DATA_PLACEHOLDER).count(), 1);
        assert!(!LIBRARY.to_ascii_lowercase().contains("</script"));
        let page = fill(&json!({"sql": "-- </script><!-- & \u{2028}"}));
        assert!(!page.contains("WEIR:"));
        assert!(page.contains(r#""sql":"-- \u003c/script\u003e\u003c!-- \u0026 \u2028""#));
    }

    #[test]
    fn columns_come_from_the_select_list() {
        let sql = include_str!("../../../athena/queries/rejects_by_code.sql");
        assert_eq!(columns_of(sql), vec!["dt", "code", "rejects"]);
    }

    #[test]
    fn a_range_is_a_condition_on_dates() {
        let range = DateRange {
            from: Some("2026-02-01".into()),
            to: None,
        };
        assert_eq!(range.condition("d"), "d >= DATE '2026-02-01'");
        assert_eq!(DateRange::default().condition("d"), "TRUE");
        assert!(check_day("--from", "2026-02-30x").is_err());
        assert!(check_day("--from", "2026-02-19").is_ok());
    }
}
