//! Generates ~700 KB of incompressible, deterministic data that the module embeds, so the
//! cold-start workload loads a module of about 1 MB, like a handler with real dependencies.

use std::{env, fs, path::Path};

const BLOB_BYTES: usize = 700 * 1024;

fn main() {
    let mut state: u32 = 0x9e37_79b9;
    let blob: Vec<u8> = (0..BLOB_BYTES)
        .map(|_| {
            // xorshift32: deterministic, incompressible, and cheap to mirror in JavaScript.
            state ^= state << 13;
            state ^= state >> 17;
            state ^= state << 5;
            (state >> 24) as u8
        })
        .collect();
    let out = Path::new(&env::var("OUT_DIR").expect("cargo sets OUT_DIR")).join("blob.bin");
    fs::write(out, blob).expect("OUT_DIR is writable");
    println!("cargo:rerun-if-changed=build.rs");
}
