/* The architecture-neutral part of starting a program on edgesplit's QEMU test boards, called by
 * each architecture's reset code (cortex-m-startup.c, riscv-startup.c) once a stack exists.
 *
 * Copies .data and the thread-local block picolibc keeps errno in, zeroes .bss, fetches the
 * command line by semihosting and returns main's value as QEMU's exit status.
 *
 * Measures the stack a call takes by painting (board.h): es_stack_paint fills the free stack
 * below the caller with a pattern, es_stack_record finds the lowest word the call overwrote, and
 * at exit the largest depth seen is written to stack.txt (semihosting, in QEMU's folder). */
#include "board-startup.h"

#include <picolibc.h> /* defines PICOLIBC_TLS, which picotls.h needs */
#include <picotls.h>
#include <semihost.h>
#include <stdlib.h>
#include <string.h>

int main(int argc, char **argv);

extern uint32_t __data_start[], __data_end[], __data_source[], __bss_start[], __bss_end[];
extern uint32_t __tls_base[];
extern uint32_t __heap_end[]; /* the lowest address of the stack */

enum { STACK_PATTERN = 0x5AC3A55Au }; /* also in es_stack_paint's assembly */

/* The stack pointer at the last es_stack_paint (0 before); es_stack_paint stores it by name. */
__attribute__((used)) static uint32_t *paint_top;
static uint32_t stack_peak;

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

/* Naked, in assembly: no prologue pushes anything, so the stack pointer it reads is its caller's
 * at the call, and it paints every free word below it. */
__attribute__((naked)) void es_stack_paint(void) {
#if defined(__riscv)
  __asm__ volatile("la t0, __heap_end\n\t"
                   "li t1, 0x5AC3A55A\n\t"
                   "1: bgeu t0, sp, 2f\n\t"
                   "sw t1, 0(t0)\n\t"
                   "addi t0, t0, 4\n\t"
                   "j 1b\n\t"
                   "2: la t0, paint_top\n\t"
                   "sw sp, 0(t0)\n\t"
                   "ret");
#else
  __asm__ volatile("ldr r0, =__heap_end\n\t"
                   "ldr r1, =0x5AC3A55A\n\t"
                   "mov r2, sp\n\t"
                   "1: cmp r0, r2\n\t"
                   "bhs 2f\n\t"
                   "str r1, [r0], #4\n\t"
                   "b 1b\n\t"
                   "2: ldr r0, =paint_top\n\t"
                   "str r2, [r0]\n\t"
                   "bx lr\n\t"
                   ".ltorg");
#endif
}

void es_stack_record(void) {
  const uint32_t *word = __heap_end;
  while (word < paint_top && *word == STACK_PATTERN) ++word;
  const uint32_t depth = (uint32_t)((const char *)paint_top - (const char *)word);
  if (depth > stack_peak) stack_peak = depth;
}

static void write_stack_peak(void) {
  char text[16];
  int length = 0;
  uint32_t value = stack_peak;
  char digits[10];
  int count = 0;
  if (!paint_top) return;
  do digits[count++] = (char)('0' + value % 10); while ((value /= 10) != 0);
  while (count) text[length++] = digits[--count];
  text[length++] = '\n';
  int fd = sys_semihost_open("stack.txt", SH_OPEN_W);
  if (fd < 0) return;
  sys_semihost_write(fd, text, (uintptr_t)length);
  sys_semihost_close(fd);
}

void es_start(void) {
  static char *argv[MAX_ARGS + 1];
  memcpy(__data_start, __data_source, (size_t)((char *)__data_end - (char *)__data_start));
  memset(__bss_start, 0, (size_t)((char *)__bss_end - (char *)__bss_start));
  _set_tls(__tls_base);
  const int status = main(split_cmdline(argv), argv);
  write_stack_peak();
  exit(status);
}

void es_fault_exit(uint32_t number) { sys_semihost_exit_extended(128u + (number & 0x7Fu)); }
