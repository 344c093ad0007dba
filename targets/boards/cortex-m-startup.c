/* Reset and fault handling for edgesplit's QEMU test boards (every Cortex-M core we target).
 *
 * Reset enables the FPU (and so MVE on Armv8.1-M, which uses the same coprocessor enables),
 * copies .data and the thread-local block picolibc keeps errno in, zeroes .bss, fetches the
 * command line by semihosting and returns main's value as QEMU's exit status. Any fault or
 * unexpected exception exits with status 128 + its exception number, so a crashed program
 * never leaves QEMU running. */
#include <picolibc.h> /* defines PICOLIBC_TLS, which picotls.h needs */
#include <picotls.h>
#include <semihost.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int main(int argc, char **argv);

extern uint32_t __data_start[], __data_end[], __data_source[], __bss_start[], __bss_end[];
extern uint32_t __tls_base[], __stack_top[];

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

void es_reset_handler(void) {
  static char *argv[MAX_ARGS + 1];
  volatile uint32_t *const cpacr = (volatile uint32_t *)0xE000ED88u;
  *cpacr |= 0xFu << 20; /* CP10 and CP11: FPU and MVE, full access */
  __asm__ volatile("dsb\n\tisb" ::: "memory");
  memcpy(__data_start, __data_source, (size_t)((char *)__data_end - (char *)__data_start));
  memset(__bss_start, 0, (size_t)((char *)__bss_end - (char *)__bss_start));
  _set_tls(__tls_base);
  exit(main(split_cmdline(argv), argv));
}

static void es_exception_exit(void) {
  uint32_t ipsr;
  __asm__ volatile("mrs %0, ipsr" : "=r"(ipsr));
  sys_semihost_exit_extended(128u + (ipsr & 0x7Fu));
}

/* 16 system exceptions and the external interrupts of the largest board (AN547: 96 + 16).
 * Board support is built with GNU C (range designators, section attributes, inline assembly);
 * the generated model code stays ISO C99. */
__attribute__((section(".vectors"), used)) static void (*const vectors[16 + 112])(void) = {
    (void (*)(void))__stack_top, es_reset_handler,
    [2 ... 16 + 111] = es_exception_exit,
};
