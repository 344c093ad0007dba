/* Reset and fault handling for edgesplit's QEMU test boards with a Cortex-M core.
 *
 * Reset enables the FPU (and so MVE on Armv8.1-M, which uses the same coprocessor enables) and
 * hands over to the shared start-up (board-startup.c). Any fault or unexpected exception exits
 * with status 128 + its exception number. */
#include "board-startup.h"

extern uint32_t __stack_top[];

void es_reset_handler(void) {
  volatile uint32_t *const cpacr = (volatile uint32_t *)0xE000ED88u;
  *cpacr |= 0xFu << 20; /* CP10 and CP11: FPU and MVE, full access */
  __asm__ volatile("dsb\n\tisb" ::: "memory");
  es_start();
}

static void es_exception_exit(void) {
  uint32_t ipsr;
  __asm__ volatile("mrs %0, ipsr" : "=r"(ipsr));
  es_fault_exit(ipsr);
}

/* 16 system exceptions and the external interrupts of the largest board (AN547: 96 + 16).
 * Board support is built with GNU C (range designators, section attributes, inline assembly);
 * the generated model code stays ISO C99. */
__attribute__((section(".vectors"), used)) static void (*const vectors[16 + 112])(void) = {
    (void (*)(void))__stack_top, es_reset_handler,
    [2 ... 16 + 111] = es_exception_exit,
};
