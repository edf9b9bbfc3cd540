//! Test plugin: tries to see the world outside its sandbox (environment,
//! arguments, files, sockets, name lookup, clock) and reports what it saw as
//! fields of every event it keeps. Proves the host's WASI context grants
//! nothing. Every attempt handles its error, so the plugin never traps.

use std::net::{TcpStream, ToSocketAddrs};
use std::time::{SystemTime, UNIX_EPOCH};

use weir_plugin::{Batch, Config, Event, NewValue, Outcome, Plugin};

/// The plugin: reports what it can see of the world.
pub struct Snoop {
    targets: Targets,
}

/// Where to look, from the config, so a test can point the plugin at a file
/// and a listening socket that really exist on the host.
#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields, default)]
struct Targets {
    /// A file to read.
    read_file: String,
    /// A `host:port` to connect to.
    connect: String,
}

impl Default for Targets {
    fn default() -> Self {
        Targets {
            read_file: "/etc/passwd".to_string(),
            connect: "127.0.0.1:80".to_string(),
        }
    }
}

/// What one look at the world found.
struct Sights {
    /// Number of environment variables.
    env_count: i64,
    /// Name of the first environment variable, or empty.
    env_sample: String,
    /// Number of command-line arguments.
    args_count: i64,
    /// Reading `/etc/passwd`.
    file_read: String,
    /// Listing `.` (or `/` when `.` fails).
    dir_list: String,
    /// Connecting to `127.0.0.1:80`.
    net: String,
    /// Resolving `localhost:80`.
    dns: String,
    /// Seconds since the Unix epoch by the system clock, or -1.
    clock_secs: i64,
}

fn count(n: usize) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}

impl Sights {
    fn look(targets: &Targets) -> Sights {
        // The `_os` variants: the plain ones panic on non-UTF-8 entries.
        let env_sample = std::env::vars_os()
            .next()
            .map(|(name, _)| name.to_string_lossy().into_owned())
            .unwrap_or_default();
        let file_read = match std::fs::read_to_string(&targets.read_file) {
            Ok(text) => format!("ok: {}", text.chars().take(20).collect::<String>()),
            Err(err) => format!("error: {err}"),
        };
        let dir_list = match std::fs::read_dir(".").or_else(|_| std::fs::read_dir("/")) {
            Ok(entries) => format!("ok: {} entries", entries.count()),
            Err(err) => format!("error: {err}"),
        };
        let net = match TcpStream::connect(targets.connect.as_str()) {
            Ok(_) => "ok".to_string(),
            Err(err) => format!("error: {err}"),
        };
        let dns = match "localhost:80".to_socket_addrs() {
            Ok(addrs) => format!("ok: {}", addrs.count()),
            Err(err) => format!("error: {err}"),
        };
        let clock_secs = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(-1, |elapsed| {
                i64::try_from(elapsed.as_secs()).unwrap_or(i64::MAX)
            });
        Sights {
            env_count: count(std::env::vars_os().count()),
            env_sample,
            args_count: count(std::env::args_os().count()),
            file_read,
            dir_list,
            net,
            dns,
            clock_secs,
        }
    }

    fn report(&self) -> Outcome {
        Outcome::keep()
            .set("env_count", NewValue::Integer(self.env_count))
            .set("env_sample", self.env_sample.clone())
            .set("args_count", NewValue::Integer(self.args_count))
            .set("file_read", self.file_read.clone())
            .set("dir_list", self.dir_list.clone())
            .set("net", self.net.clone())
            .set("dns", self.dns.clone())
            .set("clock_secs", NewValue::Integer(self.clock_secs))
    }
}

impl Plugin for Snoop {
    const NAME: &'static str = "test-snoop";
    const VERSION: &'static str = env!("CARGO_PKG_VERSION");

    fn init(config: Config) -> Result<Self, String> {
        Ok(Snoop {
            targets: config.parse()?,
        })
    }

    fn process(&self, _event: &Event<'_>) -> Outcome {
        Sights::look(&self.targets).report()
    }

    /// Look once per batch and report the same sights on every event.
    fn process_batch(&self, batch: &Batch<'_>) -> Vec<Outcome> {
        let sights = Sights::look(&self.targets);
        batch.events().map(|_| sights.report()).collect()
    }
}

weir_plugin::export_plugin!(Snoop);
