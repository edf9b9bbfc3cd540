//! The contract between host and plugins: loading, self-description, what a
//! keep may change, and that a plugin behaves the same as WebAssembly and
//! natively.

use std::path::PathBuf;

use weir::batch::{Fate, Stage};
use weir::bench::{BenchOptions, bench_events, drive, native_pipeline, wasm_pipeline};
use weir::bindings::wit;
use weir::engine::{Limits, PluginEngine};
use weir::plugin::{LoadError, LoadedPlugin, PluginSource};

use crate::common::{batch_of, fates};

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

#[test]
fn a_keep_sets_removes_replaces_and_partitions() {
    let stage = Stage::host();
    let mut batch = batch_of(&[r#"{"a":1,"b":"x"}"#; 4]);
    let keep = |kept: wit::Kept| wit::Outcome::Keep(kept);
    let empty = || wit::Kept {
        replace: None,
        set: vec![],
        remove: vec![],
        partition: vec![],
    };
    batch.apply(
        0,
        keep(wit::Kept {
            set: vec![
                wit::FieldUpdate {
                    name: "a".into(),
                    value: wit::NewValue::Text("one".into()),
                },
                wit::FieldUpdate {
                    name: "c".into(),
                    value: wit::NewValue::Json(r#"{"d":[1]}"#.into()),
                },
            ],
            remove: vec!["b".into(), "never-seen".into()],
            partition: vec![wit::PartitionValue {
                key: "year".into(),
                value: "2026".into(),
            }],
            ..empty()
        }),
        &stage,
    );
    batch.apply(
        1,
        keep(wit::Kept {
            replace: Some(r#"{"z":true}"#.into()),
            ..empty()
        }),
        &stage,
    );
    batch.apply(
        2,
        keep(wit::Kept {
            partition: vec![wit::PartitionValue {
                key: "day".into(),
                value: "../../etc".into(),
            }],
            ..empty()
        }),
        &stage,
    );
    batch.apply(
        3,
        keep(wit::Kept {
            set: vec![wit::FieldUpdate {
                name: "x".into(),
                value: wit::NewValue::Float(f64::NAN),
            }],
            ..empty()
        }),
        &stage,
    );
    let json = |index: usize| {
        let Fate::Alive { fields, partition } = &batch.records()[index].fate else {
            panic!()
        };
        let mut out = Vec::new();
        let arena = batch.arena();
        weir::encode::write_json_object(&mut out, &arena.names, &arena.text, fields);
        (String::from_utf8(out).unwrap(), partition.clone())
    };
    assert_eq!(
        json(0),
        (
            r#"{"a":"one","c":{"d":[1]}}"#.to_string(),
            vec![("year".into(), "2026".into())]
        )
    );
    assert_eq!(json(1).0, r#"{"z":true}"#);
    assert_eq!(
        fates(&batch)[2..],
        ["rejected:bad-partition", "rejected:bad-value"]
    );
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
