//! **Developer tools** (layer 6, above [`crate::sources`]): what the CLI
//! offers beside running pipelines — benchmarks against native rules,
//! generated events, plugin scaffolds, fixture tests and fuzzing entry
//! points.

pub mod bench;
pub mod fixture;
pub mod fuzzing;
pub mod generate;
pub mod native;
pub mod scaffold;
