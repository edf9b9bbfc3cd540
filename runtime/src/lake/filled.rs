//! Which declared columns no kept event has filled: a misspelt
//! `[[output.column]]` name writes a column of nulls without an error, so a
//! run watches for it and names such columns at its end.

use weir_plugin::layout::Value;

use crate::lake::columns::ColumnSpec;
use crate::pipeline::batch::{Batch, Fate};

/// The declared columns no kept event has given a value yet.
#[derive(Clone, Debug, Default)]
pub struct Unfilled {
    names: Vec<String>,
}

impl Unfilled {
    /// Every declared column, none filled yet.
    pub fn new(specs: &[ColumnSpec]) -> Unfilled {
        Unfilled {
            names: specs.iter().map(|spec| spec.name.clone()).collect(),
        }
    }

    /// Strike off the columns a kept event of `batch` fills. Once every
    /// column is filled, this costs nothing.
    pub fn observe(&mut self, batch: &Batch) {
        if self.names.is_empty() {
            return;
        }
        let arena = batch.arena();
        self.names.retain(|name| {
            let Some(index) = arena.lookup(name) else {
                return true;
            };
            !batch.records().iter().any(|record| match &record.fate {
                Fate::Alive { fields, .. } => fields
                    .iter()
                    .any(|field| field.name == index && !matches!(field.value, Value::Null)),
                _ => false,
            })
        });
    }

    /// The columns still unfilled, in their declared order.
    pub fn names(&self) -> &[String] {
        &self.names
    }
}
