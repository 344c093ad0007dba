/* The architecture-neutral part of starting a program on edgesplit's QEMU test boards, called by
 * each architecture's reset code (cortex-m-startup.c, riscv-startup.c) once a stack exists.
 *
 * Copies .data and the thread-local block picolibc keeps errno in, zeroes .bss, fetches the
 * command line by semihosting and returns main's value as QEMU's exit status. */
#include "board-startup.h"

#include <picolibc.h> /* defines PICOLIBC_TLS, which picotls.h needs */
#include <picotls.h>
#include <semihost.h>
#include <stdlib.h>
#include <string.h>

int main(int argc, char **argv);

extern uint32_t __data_start[], __data_end[], __data_source[], __bss_start[], __bss_end[];
extern uint32_t __tls_base[];

enum { MAX_ARGS = 32, CMDLINE_BYTES = 1024 };

static char cmdline[CMDLINE_BYTES];

static int split_cmdline(char **argv) {
  int argc = 0;
  char *cursor = cmdline;
  if (sys_semihost_get_cmdline(cmdline, CMDLINE_BYTES) != 0) return 0;
  while (*cursor && argc < MAX_ARGS) {
    while (*cursor == ' ') *cursor++ = '\0';
    if (!*cursor) break;
    argv[argc++] = cursor;
    while (*cursor && *cursor != ' ') ++cursor;
  }
  argv[argc] = NULL;
  return argc;
}

void es_start(void) {
  static char *argv[MAX_ARGS + 1];
  memcpy(__data_start, __data_source, (size_t)((char *)__data_end - (char *)__data_start));
  memset(__bss_start, 0, (size_t)((char *)__bss_end - (char *)__bss_start));
  _set_tls(__tls_base);
  exit(main(split_cmdline(argv), argv));
}

void es_fault_exit(uint32_t number) { sys_semihost_exit_extended(128u + (number & 0x7Fu)); }
