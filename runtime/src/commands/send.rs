//! `weir send`: JSON lines to a Kinesis stream, retrying the records it refuses.

use anyhow::{Context, Result, bail};

use super::{AwsArgs, renamed};

#[derive(clap::Args)]
pub struct Args {
    /// The stream's name.
    #[arg(long)]
    stream: String,
    /// The field whose value is the partition key.
    #[arg(long, default_value = "user_id")]
    partition_key: String,
    /// Most records per second.
    #[arg(long)]
    rate: Option<f64>,
    /// Tries per record before it counts as not sent.
    #[arg(long, default_value_t = 8)]
    max_attempts: u32,
    /// Print the report as JSON on standard output.
    #[arg(long)]
    json: bool,
    /// JSON lines to send, or `-` for standard input.
    #[arg(long, required_unless_present = "input_old")]
    input: Option<String>,
    /// Deprecated: the input as a positional argument.
    #[arg(hide = true, conflicts_with = "input")]
    input_old: Option<String>,
    #[command(flatten)]
    aws: AwsArgs,
}

pub fn execute(args: Args) -> Result<()> {
    let Args {
        stream,
        partition_key,
        rate,
        max_attempts,
        json,
        input,
        input_old,
        aws,
    } = args;
    let endpoint = aws.apply();
    let input = renamed(input, input_old, "--input", "a positional input")
        .unwrap_or_else(|| "-".to_string());
    send_command(
        weir::sources::kinesis::send::SendOptions {
            stream,
            key_field: partition_key,
            rate,
            max_attempts,
        },
        endpoint.as_deref(),
        &input,
        json,
    )
}

/// `weir send`.
fn send_command(
    options: weir::sources::kinesis::send::SendOptions,
    endpoint: Option<&str>,
    input: &str,
    json: bool,
) -> Result<()> {
    if options.max_attempts == 0 {
        bail!("--max-attempts must be at least 1");
    }
    if options
        .rate
        .is_some_and(|rate| rate.is_nan() || rate <= 0.0)
    {
        bail!("--rate must be above 0");
    }
    let mut reader: Box<dyn std::io::BufRead> = if input == "-" {
        Box::new(std::io::BufReader::new(std::io::stdin()))
    } else {
        Box::new(std::io::BufReader::new(
            std::fs::File::open(input).with_context(|| format!("cannot read {input}"))?,
        ))
    };
    let kinesis = weir::sources::kinesis::client::Kinesis::connect(endpoint)
        .context("cannot start the Kinesis client")?;
    let bar = super::spinner();
    let report =
        weir::sources::kinesis::send::send(&kinesis, &options, &mut reader, &mut |report| {
            bar.set_message(format!(
                "{} sent, {} not sent, {} retried",
                report.sent,
                report.failed.len(),
                report.retried
            ));
            bar.tick();
        });
    bar.finish_and_clear();
    let report = match report {
        Ok(report) => report,
        Err(weir::sources::kinesis::send::SendError::Read(err)) => {
            return Err(err).with_context(|| format!("cannot read {input}"));
        }
        Err(refused) => return Err(refused.into()),
    };
    if json {
        println!("{}", serde_json::to_string(&report)?);
    }
    note!(
        "sent {} records to {} in {:.2}s ({:.0} records/s); {} blank lines skipped, {} entries retried",
        report.sent,
        options.stream,
        report.seconds,
        report.sent as f64 / report.seconds.max(1e-9),
        report.blank,
        report.retried
    );
    if !report.failed.is_empty() {
        let lines: Vec<String> = report
            .failed
            .iter()
            .take(20)
            .map(|(line, _)| line.to_string())
            .collect();
        let more = if report.failed.len() > 20 {
            ", …"
        } else {
            ""
        };
        bail!(
            "could not send {} of {} lines (lines {}{more}); the first: {}",
            report.failed.len(),
            report.lines,
            lines.join(", "),
            report.failed[0].1
        );
    }
    Ok(())
}
