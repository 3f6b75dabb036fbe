/*
 * Debian's libunwind.a (LLVM 14) was built against glibc and calls __fprintf_chk, which musl
 * lacks. This forwards it to vfprintf so a fully static musl `bootstrap` can link against it.
 * Only used by the Debian toolchain route (see src/build/toolchain.ts).
 */
#include <stdarg.h>
#include <stdio.h>

int __fprintf_chk(FILE *stream, int flag, const char *format, ...) {
  (void)flag;
  va_list args;
  va_start(args, format);
  int written = vfprintf(stream, format, args);
  va_end(args);
  return written;
}
