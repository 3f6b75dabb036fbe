//! Reports what a WASI command sees (arguments, one variable, a preopened directory) and exits
//! with the status given as its first argument, the way conformance suites probe a runtime.

use std::{env, fs, process};

fn main() {
    let args: Vec<String> = env::args().skip(1).collect();
    println!("args: {}", args.join(" "));
    eprintln!("GREETING={}", env::var("GREETING").unwrap_or_default());
    match fs::read_to_string("/data/input.txt") {
        Ok(text) => println!("input: {}", text.trim()),
        Err(err) => println!("input: unavailable ({})", err.kind()),
    }
    if fs::write("/data/output.txt", "written by wasi-command\n").is_ok() {
        println!("output: written");
    }
    let status = args.first().and_then(|a| a.parse().ok()).unwrap_or(0);
    process::exit(status);
}
