/* What generated programs see of an edgesplit QEMU test board: the instruction-count marker and
 * the CMSDK UART that joins the devices of a fleet. */
#ifndef EDGESPLIT_BOARD_H
#define EDGESPLIT_BOARD_H

#include <stddef.h>
#include <stdint.h>

/* A `mov r8, r8`, which compilers do not emit: the instruction-count plugin records the number
 * of instructions executed so far each time it runs (qemu-insn-plugin.c). */
#define ES_MARK() __asm__ volatile(".inst.n 0x46c0" ::: "memory")

/* Blocking UART byte I/O. Receiving waits with WFI, so an idle instance costs the host no CPU. */
void es_uart_init(void);
void es_uart_write(const uint8_t *bytes, size_t length);
void es_uart_read(uint8_t *bytes, size_t length);

#endif
