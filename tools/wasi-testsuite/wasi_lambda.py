"""WebAssembly/wasi-testsuite adapter for wasi-lambda.

Usage, from a checkout of the test suite:

    python3 test-runner/wasi_test_runner.py \
        -t tests/rust/testsuite/wasm32-wasip1 \
        -r /path/to/wasi-lambda/tools/wasi-testsuite/wasi_lambda.py

Set WASI_LAMBDA to the command that starts the CLI when it is not `npx wasi-lambda`
(e.g. WASI_LAMBDA="node /path/to/wasi-lambda/dist/cli.js").

A test's `root` folder is preopened as the guest's `/`, as the wasmtime adapter does;
`wasi-lambda run` copies it into memory and never writes it back.
"""

import os
import shlex
import subprocess

_COMMAND = shlex.split(os.environ.get("WASI_LAMBDA", "npx wasi-lambda"))


def get_name():
    return "wasi-lambda"


def get_version():
    result = subprocess.run(_COMMAND + ["--version"], capture_output=True, text=True, check=True)
    return result.stdout.strip()


def get_wasi_versions():
    return ["wasm32-wasip1"]


def get_wasi_worlds():
    return ["wasi:cli/command"]


def compute_argv(test_path, args_env_root, proposals, wasi_world, wasi_version):
    args, env, root = args_env_root
    argv = _COMMAND + ["run", test_path]
    for name, value in env.items():
        argv += ["--env", f"{name}={value}"]
    if root:
        argv += ["--dir", f"{root}::/"]
    return argv + ["--"] + list(args)
