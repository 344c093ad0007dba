/* Reset and trap handling for edgesplit's QEMU test boards with a RISC-V core (machine mode,
 * `-bios none`: QEMU's reset code jumps to the start of RAM, where .vectors holds this entry).
 *
 * Reset sets up the stack and the trap vector and hands over to the shared start-up
 * (board-startup.c). Interrupts stay disabled in mstatus, so every trap is an exception (an
 * illegal instruction, a misaligned or faulting access, an unexpected ecall or ebreak): it exits
 * with status 128 + mcause, so a crash never leaves QEMU running. */
#include "board-startup.h"
#include "board.h"

/* Naked: no stack exists yet at reset, and the trap handler cannot trust the one it finds. */
__attribute__((naked, section(".vectors"), used)) void es_reset_handler(void) {
  __asm__ volatile("la sp, __stack_top\n\t"
                   "la t0, es_trap\n\t"
                   ES_ZICSR("csrw mtvec, t0") "\n\t"
                   "tail es_start");
}

/* Direct-mode mtvec needs a 4-byte aligned handler. */
__attribute__((naked, aligned(4), used)) static void es_trap(void) {
  __asm__ volatile("la sp, __stack_top\n\t"
                   ES_ZICSR("csrr a0, mcause") "\n\t"
                   "tail es_fault_exit");
}
