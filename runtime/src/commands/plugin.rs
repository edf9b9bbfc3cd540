//! `weir plugin`: create, build, push, precompile and inspect plugin components.

use std::path::PathBuf;

use anyhow::{Context, Result, bail};
use clap::Subcommand;
use sha2::Digest as _;

use super::{AwsArgs, engine, location_arg, print_json, renamed};

#[derive(Subcommand)]
pub enum PluginCommand {
    /// Create a plugin crate that builds to a component with one command and
    /// passes its own tests: a working example of its kind.
    New {
        /// The plugin's name: lowercase letters, digits and `-`.
        name: String,
        /// What the example does.
        #[arg(long, value_enum, default_value = "filter")]
        kind: weir::tools::scaffold::Kind,
        /// The folder to create it in.
        #[arg(long, default_value = ".")]
        dir: PathBuf,
        /// Where its SDK comes from: `path:DIR` (a Weir checkout's
        /// plugins/sdk), `git:URL[#REV]`, `version:X.Y` (crates.io), or
        /// `vendor` (a copy inside the crate, for offline builds). Default:
        /// the checkout this weir was built from, else its release tag.
        #[arg(long)]
        sdk: Option<weir::tools::scaffold::SdkSource>,
    },
    /// Build the plugin crate in a folder to a `wasm32-wasip2` component and
    /// print its path, name, contract and sha256.
    Build {
        /// The crate's folder.
        #[arg(default_value = ".")]
        dir: PathBuf,
        /// Also copy the component to this file.
        #[arg(long, short = 'o', value_name = "FILE")]
        output: Option<PathBuf>,
        /// Deprecated spelling of --output.
        #[arg(long = "out", hide = true, conflicts_with = "output")]
        out_old: Option<PathBuf>,
    },
    /// Upload a component to S3 under a name that carries its version and
    /// hash (`<name>-<version>-<sha256 prefix>.wasm`), and print the
    /// `[[plugin]]` entry that pins it (on standard output, ready to append
    /// to a pipeline file).
    Push {
        /// The component (`.wasm`).
        file: PathBuf,
        /// Where plugins live: `s3://bucket/prefix/`.
        to: String,
        #[command(flatten)]
        aws: AwsArgs,
    },
    /// Compile plugins ahead of time, for a host to load at start-up in a
    /// millisecond instead of compiling them: writes `<sha256>.cwasm` per
    /// plugin into the folder. Ship the folder in the Lambda package as
    /// `precompiled/` (or name it with `WEIR_PRECOMPILED_DIR`).
    Precompile {
        /// Components: `.wasm` files or `bundled:<name>`.
        #[arg(required = true)]
        plugins: Vec<String>,
        /// The folder to write into.
        #[arg(
            long,
            short = 'o',
            value_name = "DIR",
            required_unless_present = "out_old"
        )]
        output: Option<PathBuf>,
        /// Deprecated spelling of --output.
        #[arg(long = "out", hide = true, conflicts_with = "output")]
        out_old: Option<PathBuf>,
        /// The target triple of the host that will run them, e.g.
        /// `aarch64-unknown-linux-gnu` for Lambda on arm64; default this
        /// machine's.
        #[arg(long)]
        target: Option<String>,
    },
    /// Name, version, contract version, imports, size and sha256 of a
    /// plugin component, without configuring or running it. A component
    /// built against another contract version is refused, saying so.
    Inspect {
        /// The component: a `.wasm` file or `bundled:<name>`.
        plugin: String,
        /// Print as JSON on standard output.
        #[arg(long)]
        json: bool,
    },
}

pub fn execute(command: PluginCommand) -> Result<()> {
    match command {
        PluginCommand::New {
            name,
            kind,
            dir,
            sdk,
        } => {
            let sdk = sdk.unwrap_or_else(weir::tools::scaffold::SdkSource::of_this_build);
            let root = weir::tools::scaffold::create(&dir, &name, kind, &sdk)?;
            println!("created {}", root.display());
            println!("  cd {} && cargo test && weir plugin build", root.display());
            Ok(())
        }
        PluginCommand::Build {
            dir,
            output,
            out_old,
        } => build_plugin(
            &dir,
            renamed(output, out_old, "--output", "--out").as_deref(),
        ),
        PluginCommand::Push { file, to, aws } => {
            aws.apply();
            push_plugin(&file, &to)
        }
        PluginCommand::Inspect { plugin, json } => {
            let bytes = component_bytes(&plugin)?;
            let engine = engine()?;
            let info = weir::engine::plugin::inspect(&engine, &plugin, &bytes)?;
            if json {
                return print_json(&info);
            }
            println!("plugin    {} {}", info.name, info.version);
            println!("contract  weir:plugin@{}", info.contract);
            println!("size      {} bytes", info.size);
            println!("sha256    {}", info.sha256);
            println!("exports   {}", info.exports.join(", "));
            println!("imports   {}", info.imports.join("\n          "));
            Ok(())
        }
        PluginCommand::Precompile {
            plugins,
            output,
            out_old,
            target,
        } => {
            let out = renamed(output, out_old, "--output", "--out").unwrap_or_default();
            std::fs::create_dir_all(&out)
                .with_context(|| format!("cannot create {}", out.display()))?;
            for plugin in plugins {
                let bytes: Vec<u8> = match plugin.strip_prefix("bundled:") {
                    Some(name) => weir_bundled_plugins::bundled(name)
                        .with_context(|| format!("{plugin}: no bundled plugin of that name"))?
                        .bytes
                        .to_vec(),
                    None => {
                        std::fs::read(&plugin).with_context(|| format!("cannot read {plugin}"))?
                    }
                };
                let sha256 = hex::encode(sha2::Sha256::digest(&bytes));
                let compiled = weir::engine::precompile(&bytes, target.as_deref())
                    .map_err(|err| anyhow::anyhow!("{plugin}: cannot compile: {err:#}"))?;
                let path = out.join(weir::engine::cache::ModuleCache::file_name(&sha256));
                std::fs::write(&path, &compiled)
                    .with_context(|| format!("cannot write {}", path.display()))?;
                println!("{plugin} -> {}", path.display());
            }
            Ok(())
        }
    }
}

/// `weir plugin build`: cargo's release build for `wasm32-wasip2`, then what
/// the component is.
fn build_plugin(dir: &std::path::Path, out: Option<&std::path::Path>) -> Result<()> {
    use weir_bundled_plugins::wasm_target::{self, Ensured};
    // The toolchain the plugin's folder selects (its rust-toolchain.toml),
    // with the wasm target added through rustup if it lacks it.
    match wasm_target::ensure("rustc".as_ref(), "rustup".as_ref(), dir)? {
        Ensured::Present => {}
        Ensured::Added { toolchain } => note!(
            "added the {} target to the {toolchain} toolchain with rustup",
            wasm_target::TARGET
        ),
    }
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let output = std::process::Command::new(cargo)
        .args([
            "build",
            "--release",
            "--target",
            "wasm32-wasip2",
            "--message-format=json-render-diagnostics",
        ])
        .current_dir(dir)
        .stderr(std::process::Stdio::inherit())
        .output()
        .with_context(|| format!("cannot run cargo in {}", dir.display()))?;
    if !output.status.success() {
        bail!(
            "cargo build --release --target wasm32-wasip2 failed in {} (its output above says why)",
            dir.display()
        );
    }
    // The component: the last artifact cargo reports with a .wasm file.
    let wasm = String::from_utf8_lossy(&output.stdout)
        .lines()
        .filter_map(|line| serde_json::from_str::<serde_json::Value>(line).ok())
        .filter(|message| message["reason"] == "compiler-artifact")
        .flat_map(|message| message["filenames"].as_array().cloned().unwrap_or_default())
        .filter_map(|name| name.as_str().map(PathBuf::from))
        .rfind(|path| path.extension().is_some_and(|ext| ext == "wasm"))
        .ok_or_else(|| {
            anyhow::anyhow!(
                "cargo built no .wasm in {}: is the crate a cdylib?",
                dir.display()
            )
        })?;
    let bytes = std::fs::read(&wasm).with_context(|| format!("cannot read {}", wasm.display()))?;
    let engine = engine()?;
    let info = weir::engine::plugin::inspect(&engine, &wasm.display().to_string(), &bytes)?;
    println!("built   {}", wasm.display());
    if let Some(out) = out {
        std::fs::copy(&wasm, out)
            .with_context(|| format!("cannot copy it to {}", out.display()))?;
        println!("copied  {}", out.display());
    }
    println!(
        "plugin  {} {} (contract weir:plugin@{})",
        info.name, info.version, info.contract
    );
    println!("sha256  {}", info.sha256);
    Ok(())
}

/// `weir plugin push`: the component to S3 under a content-addressed name.
fn push_plugin(file: &std::path::Path, to: &str) -> Result<()> {
    let bytes = std::fs::read(file).with_context(|| format!("cannot read {}", file.display()))?;
    let engine = engine()?;
    let info = weir::engine::plugin::inspect(&engine, &file.display().to_string(), &bytes)?;
    let location = location_arg("the destination", to)?;
    if !location.is_s3() {
        bail!("{to}: push uploads to S3: give s3://bucket/prefix/");
    }
    let storage = weir::storage::Storage::open(&location, &Default::default())
        .with_context(|| format!("cannot open {location}"))?;
    let name = format!("{}-{}-{}.wasm", info.name, info.version, &info.sha256[..12]);
    storage.write_now(&name, &bytes, "application/wasm")?;
    let url = location.join(&name);
    // The entry on standard output, so it can be appended to a pipeline file.
    note!("pushed {url} ({} bytes)", bytes.len());
    println!("[[plugin]]");
    println!("path = \"{url}\"");
    println!("sha256 = \"{}\"", info.sha256);
    Ok(())
}

/// The bytes of a component named on the command line: `bundled:<name>`
/// or a file.
fn component_bytes(plugin: &str) -> Result<Vec<u8>> {
    if let Some(name) = plugin.strip_prefix("bundled:") {
        return match weir_bundled_plugins::bundled(name) {
            Some(guest) => Ok(guest.bytes.to_vec()),
            None => {
                let known: Vec<&str> = weir_bundled_plugins::BUNDLED
                    .iter()
                    .map(|(name, _)| *name)
                    .collect();
                bail!(
                    "{plugin}: no bundled plugin of that name (bundled: {})",
                    known.join(", ")
                )
            }
        };
    }
    std::fs::read(plugin).with_context(|| format!("cannot read {plugin}"))
}
