//! A test guest that misbehaves on demand, so the host's handling of each failure can be
//! tested against real wasm built from Rust.

use std::io::Write;

use serde::Deserialize;
use serde_json::{Value, json};
use wasi_lambda::{Context, Error};

/// What the guest should do.
#[derive(Deserialize)]
#[serde(tag = "action", rename_all = "kebab-case")]
pub enum Action {
    /// Return the payload unchanged.
    Echo {
        /// Any JSON.
        payload: Value,
    },
    /// Return `Err` with this type and message.
    Fail {
        /// The `errorType`.
        error_type: String,
        /// The `errorMessage`.
        message: String,
    },
    /// Fail with a `?`-converted standard error.
    ParseInt {
        /// Text that is not a number.
        text: String,
    },
    /// Panic with this message, after logging a line if asked.
    Panic {
        /// The panic message.
        message: String,
        /// Written to stdout before the panic.
        log: Option<String>,
    },
    /// Trap without a panic (`unreachable`).
    Trap,
    /// Write to stdout and stderr, including partial lines, then succeed.
    Log {
        /// Written to stdout one `println!` each.
        stdout: Vec<String>,
        /// Written to stderr one `eprintln!` each.
        stderr: Vec<String>,
        /// Written to stdout without a trailing newline.
        partial: Option<String>,
    },
    /// Report the environment, arguments and whether host files are visible.
    Environment,
    /// Write a file in /tmp and read it back.
    Tmp,
    /// Read the file `Tmp` writes, if an earlier invocation left it there.
    TmpRead,
    /// Write `mb` MiB to a file in /tmp, 1 MiB at a time, until done or refused.
    TmpFill {
        /// MiB to write.
        mb: usize,
    },
    /// Report the context fields and the remaining time.
    Context,
    /// Count invocations in a global, to observe instance reuse and replacement.
    Counter,
    /// Sleep, then answer `{"slept": ms}`.
    Sleep {
        /// Milliseconds.
        ms: u64,
    },
    /// Loop forever without yielding.
    Spin,
    /// Print `lines` numbered lines to stdout, then loop forever.
    LogThenSpin {
        /// How many lines.
        lines: usize,
    },
    /// Recurse without end.
    Recurse,
    /// Exit the process (`proc_exit` in wasm) with this status.
    Exit {
        /// The exit status.
        code: i32,
    },
    /// Allocate and touch `mb` megabytes, then answer how many were held.
    Grow {
        /// Megabytes to allocate.
        mb: usize,
    },
    /// Answer a JSON string of `bytes` bytes in all (quotes included).
    Big {
        /// Size of the response body.
        bytes: usize,
    },
}

static mut COUNTER: u64 = 0;

/// Each frame keeps a value alive after the call, so the recursion is not a loop.
#[allow(unconditional_recursion)]
fn recurse(depth: u64) -> u64 {
    std::hint::black_box(recurse(std::hint::black_box(depth + 1))) + depth
}

/// Does what the event says.
#[wasi_lambda::handler]
pub fn faults(action: Action, ctx: Context) -> Result<Value, Error> {
    match action {
        Action::Echo { payload } => Ok(payload),
        Action::Fail {
            error_type,
            message,
        } => Err(Error::new(error_type, message)),
        Action::ParseInt { text } => Ok(json!(text.parse::<i64>()?)),
        Action::Panic { message, log } => {
            if let Some(line) = log {
                println!("{line}");
            }
            panic!("{message}")
        }
        Action::Trap => trap(),
        Action::Log {
            stdout,
            stderr,
            partial,
        } => {
            for line in &stdout {
                println!("{line}");
            }
            for line in &stderr {
                eprintln!("{line}");
            }
            if let Some(partial) = partial {
                print!("{partial}");
                std::io::stdout().flush()?;
            }
            Ok(json!({ "logged": stdout.len() + stderr.len() }))
        }
        Action::Environment => Ok(json!({
            "env": std::env::vars().collect::<Vec<_>>(),
            "args": std::env::args().collect::<Vec<_>>(),
            "etcPasswd": std::fs::read_to_string("/etc/passwd").is_ok(),
            "cwd": std::env::current_dir().map(|p| p.display().to_string()).ok(),
        })),
        Action::Tmp => {
            let path = "/tmp/wasi-lambda-probe.txt";
            let result =
                std::fs::write(path, "scratch").and_then(|()| std::fs::read_to_string(path));
            Ok(match result {
                Ok(text) => json!({ "tmp": text }),
                Err(err) => json!({ "tmp": null, "error": err.kind().to_string() }),
            })
        }
        Action::TmpRead => Ok(json!({
            "tmp": std::fs::read_to_string("/tmp/wasi-lambda-probe.txt").ok(),
        })),
        Action::TmpFill { mb } => {
            let chunk = vec![7u8; 1 << 20];
            let mut written = 0;
            let result = std::fs::File::create("/tmp/fill.bin").and_then(|mut file| {
                for _ in 0..mb {
                    file.write_all(&chunk)?;
                    written += 1;
                }
                Ok(())
            });
            Ok(json!({
                "written": written,
                "error": result.err().map(|e| e.kind().to_string()),
            }))
        }
        Action::Context => Ok(json!({
            "requestId": ctx.request_id,
            "functionName": ctx.function_name,
            "functionVersion": ctx.function_version,
            "invokedFunctionArn": ctx.invoked_function_arn,
            "memoryLimitMb": ctx.memory_limit_mb,
            "deadlineMs": ctx.deadline_ms,
            "logGroupName": ctx.log_group_name,
            "logStreamName": ctx.log_stream_name,
            "xrayTraceId": ctx.xray_trace_id,
            "clientContext": ctx.client_context,
            "identity": ctx.identity,
            "tenantId": ctx.tenant_id,
            "remainingMs": ctx.remaining_time().as_millis() as u64,
        })),
        Action::Sleep { ms } => {
            std::thread::sleep(std::time::Duration::from_millis(ms));
            Ok(json!({ "slept": ms }))
        }
        Action::Recurse => Ok(json!(recurse(1))),
        Action::LogThenSpin { lines } => {
            for i in 0..lines {
                println!("line {i}");
            }
            loop {
                std::hint::spin_loop();
            }
        }
        Action::Spin => loop {
            std::hint::spin_loop();
        },
        Action::Exit { code } => std::process::exit(code),
        Action::Grow { mb } => {
            let block = vec![1u8; mb * 1024 * 1024];
            Ok(
                json!({ "held": block.iter().map(|b| usize::from(*b)).sum::<usize>() / (1024 * 1024) }),
            )
        }
        Action::Big { bytes } => Ok(Value::String("x".repeat(bytes.saturating_sub(2)))),
        Action::Counter => {
            // SAFETY: wasm32 guests are single-threaded and this is the only access.
            let count = unsafe {
                COUNTER += 1;
                COUNTER
            };
            Ok(json!({ "count": count }))
        }
    }
}

#[cfg(target_arch = "wasm32")]
fn trap() -> ! {
    core::arch::wasm32::unreachable()
}

#[cfg(not(target_arch = "wasm32"))]
fn trap() -> ! {
    std::process::abort()
}
