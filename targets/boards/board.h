/* What generated programs see of an edgesplit QEMU test board: the instruction-count marker and
 * the UART that joins the devices of a fleet (cmsdk-uart.c, ns16550a-uart.c). */
#ifndef EDGESPLIT_BOARD_H
#define EDGESPLIT_BOARD_H

#include <stddef.h>
#include <stdint.h>

/* An architectural no-op compilers do not emit: the instruction-count plugin records the number
 * of instructions executed so far each time it runs (qemu-insn-plugin.c, which knows both). On
 * RISC-V a 4-byte `addi x0, x0, 1` (a HINT), spelled as .insn so the assembler cannot compress
 * it; on Arm a Thumb `mov r8, r8`. */
#if defined(__riscv)
#define ES_MARK() __asm__ volatile(".insn i 0x13, 0, x0, x0, 1" ::: "memory")
/* For the board support's CSR accesses: gcc 12's rv32imac multilib predates the split of the CSR
 * instructions into Zicsr, which the assembler now wants named; enabling it around each access
 * keeps the target's -march (and so its picolibc multilib). */
#define ES_ZICSR(code) ".option push\n\t.option arch, +zicsr\n\t" code "\n\t.option pop"
#elif defined(__thumb__)
#define ES_MARK() __asm__ volatile(".inst.n 0x46c0" ::: "memory")
#else
#error "board.h: no instruction-count marker for this architecture"
#endif

/* Stack measurement by painting (board-startup.c): paint before a call, record after it; the
 * deepest call recorded is written to stack.txt when the program exits. */
void es_stack_paint(void);
void es_stack_record(void);

/* Blocking UART byte I/O. Receiving waits with WFI, so an idle instance costs the host no CPU. */
void es_uart_init(void);
void es_uart_write(const uint8_t *bytes, size_t length);
void es_uart_read(uint8_t *bytes, size_t length);

#endif
