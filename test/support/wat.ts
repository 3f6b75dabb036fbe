import { ABI_SECTION, WIT_VERSION } from '../../src/host/abi.js';

/**
 * The world's allocator exports for hand-written guests: a bump `cabi_realloc` that honours
 * the requested alignment and never frees (from offset 4096), and a `cabi_post_handle` that
 * does nothing.
 *
 * ```ts
 * const wat = `(module (memory (export "memory") 2) ${BUMP_ALLOCATOR} (func (export "handle") …))`;
 * ```
 */
export const BUMP_ALLOCATOR = `(global $bump (mut i32) (i32.const 4096))
    (func (export "cabi_realloc") (param i32 i32 i32 i32) (result i32)
      (local $p i32)
      (local.set $p (i32.and
        (i32.add (global.get $bump) (i32.sub (local.get 2) (i32.const 1)))
        (i32.xor (i32.sub (local.get 2) (i32.const 1)) (i32.const -1))))
      (global.set $bump (i32.add (local.get $p) (local.get 3)))
      (local.get $p))
    (func (export "cabi_post_handle") (param i32))`;

/**
 * The custom section by which a module says which version of the world it was built for; the
 * host refuses a handler without it (`checkAbiVersion`). The SDK writes it for Rust handlers.
 *
 * ```ts
 * const wat = `(module ${ABI_MARKER} (memory (export "memory") 2) …)`;
 * ```
 */
export const ABI_MARKER = `(@custom "${ABI_SECTION}" "${WIT_VERSION}")`;
