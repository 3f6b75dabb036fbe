/** The wasi-lambda version, stamped into reports and `--version`. */
export const VERSION = '0.1.0';
