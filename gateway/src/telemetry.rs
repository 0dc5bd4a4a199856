//! Logging: `tracing` to stdout, pretty for people or JSON for collectors, filtered by
//! `RUST_LOG` (default `info`). Request ids ride on spans, so every line a request causes
//! carries its id.
//!
//! Lines reach stdout through tracing-appender's non-blocking writer: the thread that logs
//! (a request worker) only formats its line and queues it, and a writer thread of its own
//! writes the queue to stdout. A slow stdout (a pipe whose reader lags, a stalled log
//! collector) therefore never holds up a request. The queue holds 128,000 lines; past that,
//! new lines are dropped, not waited for, and counted (`mayfly_log_lines_dropped_total`, and a
//! note on stderr at exit): a gateway keeps serving when its log sink stops, and the audit
//! trail, which is in the database, loses nothing.
//!
//! The guard [`init`] returns owns the writer thread: dropping it waits for the writer to
//! write out every queued line (for up to a second, tracing-appender's limit, so a stdout
//! that is stuck for good cannot hold the exit), so `main` keeps it until it returns and a
//! normal shutdown loses no line, down to the last "stopped".

use std::sync::OnceLock;

use tracing::Subscriber;
use tracing_appender::non_blocking::{ErrorCounter, WorkerGuard};
use tracing_subscriber::{fmt, fmt::MakeWriter, util::SubscriberInitExt, EnvFilter};

use crate::config::LogFormat;

/// The installed writer's count of dropped lines.
static DROPPED: OnceLock<ErrorCounter> = OnceLock::new();

/// Keeps the log writer running; dropping it flushes the queued lines to stdout.
#[must_use = "dropping the guard stops the log writer: keep it until the process ends"]
pub struct LogWriter {
    guard: Option<WorkerGuard>,
}

impl Drop for LogWriter {
    fn drop(&mut self) {
        let dropped = dropped_lines();
        if self.guard.is_some() && dropped > 0 {
            eprintln!(
                "mayfly-gateway: {dropped} log lines were dropped because stdout did not keep up"
            );
        }
    }
}

/// Installs the global subscriber. Call once, first thing in `main`, and keep the result.
pub fn init(format: LogFormat) -> LogWriter {
    let filter = EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| EnvFilter::new("info,sqlx=warn,sea_orm=warn,actix_server=warn"));
    let (writer, guard) = tracing_appender::non_blocking(std::io::stdout());
    let counter = writer.error_counter();
    // `try_init` also routes the `log` crate's records (rustls, actix) into tracing.
    match subscriber(format, filter, writer).try_init() {
        Ok(()) => {
            let _ = DROPPED.set(counter);
            LogWriter { guard: Some(guard) }
        }
        // A second init (tests in one process) keeps the first subscriber; this writer is
        // unused and its thread ends with the guard.
        Err(_) => LogWriter { guard: None },
    }
}

/// The subscriber writing `format` lines that pass `filter` to `writer`.
fn subscriber<W>(
    format: LogFormat,
    filter: EnvFilter,
    writer: W,
) -> Box<dyn Subscriber + Send + Sync>
where
    W: for<'w> MakeWriter<'w> + Send + Sync + 'static,
{
    let builder = fmt().with_env_filter(filter).with_writer(writer);
    match format {
        LogFormat::Pretty => Box::new(builder.with_target(false).finish()),
        LogFormat::Json => Box::new(
            builder
                .json()
                .flatten_event(true)
                .with_current_span(true)
                .with_span_list(false)
                .finish(),
        ),
    }
}

/// Log lines dropped so far because the queue to stdout was full.
pub fn dropped_lines() -> u64 {
    DROPPED
        .get()
        .map_or(0, |c| u64::try_from(c.dropped_lines()).unwrap_or(u64::MAX))
}

#[cfg(test)]
mod tests {
    use std::sync::{Arc, Condvar, Mutex};

    use super::*;

    /// Whether the stdout is open, and what it was given.
    type Taken = Mutex<(bool, Vec<u8>)>;

    /// A stdout that takes nothing until it is opened, then keeps what it is given.
    #[derive(Clone, Default)]
    struct GatedStdout(Arc<(Taken, Condvar)>);

    impl GatedStdout {
        fn open(&self) {
            let (state, opened) = &*self.0;
            state.lock().unwrap().0 = true;
            opened.notify_all();
        }

        fn lines(&self) -> usize {
            let text = self.0 .0.lock().unwrap().1.clone();
            String::from_utf8_lossy(&text).lines().count()
        }
    }

    impl std::io::Write for GatedStdout {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            let (state, opened) = &*self.0;
            let mut state = opened
                .wait_while(state.lock().unwrap(), |(open, _)| !*open)
                .unwrap();
            state.1.extend_from_slice(buf);
            Ok(buf.len())
        }

        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    #[test]
    fn a_stuck_stdout_holds_up_no_logging_thread_and_the_guard_writes_everything_out() {
        let stdout = GatedStdout::default();
        let (writer, guard) = tracing_appender::non_blocking(stdout.clone());
        let subscriber = subscriber(LogFormat::Json, EnvFilter::new("info"), writer);
        // Stdout takes nothing yet: logging must still return, with every line queued.
        tracing::subscriber::with_default(subscriber, || {
            for i in 0..200 {
                tracing::info!(i, "a line");
            }
        });
        assert_eq!(stdout.lines(), 0, "nothing could be written yet");
        stdout.open();
        drop(guard);
        assert_eq!(stdout.lines(), 200, "the guard wrote out every queued line");
    }
}
