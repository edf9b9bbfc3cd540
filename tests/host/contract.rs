//! The contract between host and plugins: loading, self-description, what a
//! keep may change, and that a plugin behaves the same as WebAssembly and
//! natively.

use std::path::PathBuf;

use weir::engine::bindings::wit;
use weir::engine::plugin::{LoadError, LoadedPlugin, PluginSource};
use weir::engine::{Limits, PluginEngine};
use weir::pipeline::batch::{Fate, Stage};
use weir::tools::bench::{BenchOptions, bench_events, drive, native_pipeline, wasm_pipeline};
use weir_plugin::{NewValue, Outcome};

use crate::common::{batch_of, fates, reasons};

fn load(
    source: PluginSource,
    sha256: Option<&str>,
    config: &str,
) -> Result<LoadedPlugin, LoadError> {
    let engine = PluginEngine::new().unwrap();
    LoadedPlugin::load(&engine, &source, sha256, config, &Limits::default())
        .map(|(plugin, _)| plugin)
}

#[test]
fn bundled_plugins_describe_themselves() {
    for (name, guest) in weir_bundled_plugins::BUNDLED {
        let plugin = load(PluginSource::Bundled(name.to_string()), None, "{}").unwrap();
        assert_eq!(plugin.name, *name);
        assert_eq!(plugin.version, env!("CARGO_PKG_VERSION"));
        // Bundled bytes and the file built beside them are the same component.
        let file = load(
            PluginSource::File(guest.path.into()),
            Some(&plugin.sha256),
            "{}",
        )
        .unwrap();
        assert_eq!(file.name, *name);
    }
}

#[test]
fn load_errors_name_the_plugin_and_the_cause() {
    let err = load(PluginSource::Bundled("nope".into()), None, "{}")
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("bundled:nope") && err.contains("validate-clickstream"),
        "{err}"
    );

    let err = load(PluginSource::File("/no/such.wasm".into()), None, "{}")
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("/no/such.wasm") && err.contains("cannot read"),
        "{err}"
    );

    let err = load(
        PluginSource::Bundled("filter".into()),
        Some(&"0".repeat(64)),
        "{}",
    )
    .unwrap_err()
    .to_string();
    assert!(err.contains("sha256 mismatch"), "{err}");

    let err = load(
        PluginSource::Bundled("filter".into()),
        None,
        r#"{"drop_users":["x"]}"#,
    )
    .unwrap_err()
    .to_string();
    assert!(
        err.starts_with("plugin filter (bundled:filter) refused its config"),
        "{err}"
    );
    assert!(err.contains("drop_users"), "{err}");

    let junk = tempfile::NamedTempFile::new().unwrap();
    std::fs::write(junk.path(), b"\0asm\x01\0\0\0").unwrap();
    let err = load(PluginSource::File(junk.path().into()), None, "{}")
        .unwrap_err()
        .to_string();
    assert!(err.contains("not a Weir plugin component"), "{err}");
    assert!(!err.contains('\n'));
}

/// Lend a batch of four identical events and apply `outcomes` to it, laid
/// out as a plugin's SDK lays them out.
fn apply(outcomes: Vec<Outcome>) -> weir::pipeline::batch::Batch {
    let mut batch = batch_of(&[r#"{"a":1,"b":"x"}"#; 4]);
    let lent = batch.lend();
    batch.restore(lent);
    let results = weir::tools::native::from_sdk(weir_plugin::results::results(outcomes));
    batch.apply(&results, &Stage::host());
    batch
}

fn kept_json(batch: &weir::pipeline::batch::Batch, index: usize) -> (String, String) {
    let Fate::Alive { fields, partition } = &batch.records()[index].fate else {
        panic!(
            "record {index} is not kept: {:?}",
            batch.records()[index].fate
        )
    };
    let mut out = Vec::new();
    let arena = batch.arena();
    weir::pipeline::encode::ObjectWriter::new(arena).write(&mut out, fields);
    let mut path = String::new();
    batch.partition_path(partition, &mut path);
    (String::from_utf8(out).unwrap(), path)
}

#[test]
fn a_keep_sets_removes_replaces_and_partitions() {
    let batch = apply(vec![
        Outcome::keep()
            .set("a", "one")
            .set("c", NewValue::Json(r#"{"d":[1]}"#.into()))
            .remove("b")
            .remove("never-seen")
            .partition("year", "2026")
            .partition("month", "02")
            .partition("year", "2027"),
        Outcome::keep().replace(r#"{"z":true}"#).set("y", 2i64),
        Outcome::keep().partition("day", "../../etc"),
        Outcome::keep().set("x", f64::NAN),
    ]);
    assert_eq!(
        kept_json(&batch, 0),
        (
            r#"{"a":"one","c":{"d":[1]}}"#.to_string(),
            "year=2027/month=02".to_string()
        )
    );
    assert_eq!(kept_json(&batch, 1).0, r#"{"z":true,"y":2}"#);
    assert_eq!(
        fates(&batch)[2..],
        ["rejected:bad-partition", "rejected:bad-value"]
    );
}

#[test]
fn results_that_point_outside_themselves_reject_the_event() {
    use weir_plugin::layout::{
        Field, PackedChange, PackedOutcome, Span, Value, push_change, push_outcome,
    };
    let mut batch = batch_of(&[r#"{"a":1}"#; 4]);
    let lent = batch.lend();
    batch.restore(lent);
    let mut changes = Vec::new();
    // A name index past the results' names.
    push_change(
        &mut changes,
        PackedChange::Set(Field {
            name: 7,
            value: Value::Null,
        }),
    );
    // A text span past the results' text.
    push_change(
        &mut changes,
        PackedChange::Set(Field {
            name: 0,
            value: Value::Text(Span { start: 1, len: 99 }),
        }),
    );
    let mut outcomes = Vec::new();
    push_outcome(&mut outcomes, PackedOutcome::Keep { first: 0, count: 1 });
    push_outcome(&mut outcomes, PackedOutcome::Keep { first: 1, count: 1 });
    // Changes past the end of the list.
    push_outcome(&mut outcomes, PackedOutcome::Keep { first: 1, count: 5 });
    push_outcome(&mut outcomes, PackedOutcome::Keep { first: 0, count: 0 });
    // An outcome of an unknown kind.
    outcomes[3 * weir_plugin::layout::OUTCOME_BYTES] = 7;
    let results = wit::Results {
        names: vec!["a".into()],
        text: b"ok".to_vec(),
        changes,
        outcomes,
    };
    batch.apply(&results, &Stage::host());
    assert_eq!(fates(&batch), ["rejected:bad-result"; 4]);
}

#[test]
fn results_cannot_make_the_host_hold_unbounded_text() {
    use weir_plugin::layout::{
        Field, PackedChange, PackedOutcome, Span, Value, push_change, push_outcome,
    };
    // 1,000 kept events, each set to the same 8 MiB span of the results'
    // text: 8 GB if the host copied it for each.
    let lines = vec![r#"{"a":1}"#; 1000];
    let mut batch = batch_of(&lines);
    let lent = batch.lend();
    batch.restore(lent);
    let big = 8 << 20;
    let mut changes = Vec::new();
    push_change(
        &mut changes,
        PackedChange::Set(Field {
            name: 0,
            value: Value::Text(Span {
                start: 0,
                len: big as u32,
            }),
        }),
    );
    let mut outcomes = Vec::new();
    for _ in 0..lines.len() {
        push_outcome(&mut outcomes, PackedOutcome::Keep { first: 0, count: 1 });
    }
    let results = wit::Results {
        names: vec!["blob".into()],
        text: vec![b'x'; big],
        changes,
        outcomes,
    };
    batch.apply(&results, &Stage::host());
    let fates = fates(&batch);
    let kept = fates.iter().filter(|fate| *fate == "kept").count();
    let refused = fates
        .iter()
        .filter(|fate| *fate == "rejected:plugin-failed")
        .count();
    // A few copies fit the budget; the rest are refused, and each event is
    // one or the other.
    assert!((1..=5).contains(&kept), "{kept}");
    assert_eq!(kept + refused, lines.len());
    assert!(
        batch.arena().text.len() < 64 << 20,
        "{}",
        batch.arena().text.len()
    );
    let reason = reasons(&batch).into_iter().find(|r| !r.is_empty()).unwrap();
    assert!(reason.contains("more than"), "{reason}");
}

#[test]
fn webassembly_and_native_plugins_write_identical_output() {
    let options = BenchOptions {
        events: 20_000,
        bad_fraction: 0.05,
        ..BenchOptions::default()
    };
    let lines = bench_events(&options);
    let engine = PluginEngine::new().unwrap();
    let mut wasm = wasm_pipeline(&engine).unwrap();
    let mut native = native_pipeline().unwrap();
    let (wasm_hash, wasm_counts) = drive(Some(&mut wasm), &lines, 1_000, true).unwrap();
    let (native_hash, native_counts) = drive(Some(&mut native), &lines, 1_000, true).unwrap();
    assert_eq!(wasm_counts, native_counts);
    assert_eq!(wasm_hash, native_hash);
    let [kept, dropped, rejected] = wasm_counts;
    assert_eq!(kept + dropped + rejected, 20_000);
    assert!(
        kept > 18_000 && dropped > 100 && rejected > 500,
        "{wasm_counts:?}"
    );
}

#[test]
fn test_plugin_files_exist() {
    for guest in [
        weir_bundled_plugins::TEST_TRAP,
        weir_bundled_plugins::TEST_SNOOP,
    ] {
        assert!(PathBuf::from(guest.path).is_file(), "{}", guest.path);
    }
}
