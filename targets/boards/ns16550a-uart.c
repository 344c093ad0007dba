/* The NS16550A UART of QEMU's RISC-V virt board (UART0 at ES_UART_BASE, given by the target's
 * board description), behind the board's PLIC. Interrupts stay disabled in mstatus: the RX
 * interrupt is enabled in the UART, the PLIC and mie only so that WFI wakes when a byte arrives
 * (WFI wakes on a pending enabled interrupt whatever mstatus.MIE says); the loop then polls the
 * line status register. */
#include "board.h"

#define UART_REG(offset) (*(volatile uint8_t *)(ES_UART_BASE + (offset)))
#define UART_RBR UART_REG(0u) /* receive buffer / transmit holding; divisor low with DLAB */
#define UART_IER UART_REG(1u) /* interrupt enable; divisor high with DLAB */
#define UART_LCR UART_REG(3u)
#define UART_MCR UART_REG(4u)
#define UART_LSR UART_REG(5u)

/* The virt board's PLIC, and UART0's interrupt source on it (hw/riscv/virt.h). */
#define PLIC_BASE 0x0C000000u
#define PLIC_PRIORITY(source) (*(volatile uint32_t *)(PLIC_BASE + 4u * (source)))
#define PLIC_ENABLE_HART0_M (*(volatile uint32_t *)(PLIC_BASE + 0x2000u))
#define PLIC_THRESHOLD_HART0_M (*(volatile uint32_t *)(PLIC_BASE + 0x200000u))
#define PLIC_CLAIM_HART0_M (*(volatile uint32_t *)(PLIC_BASE + 0x200004u))

enum {
  UART_SOURCE = 10,
  IER_RX_AVAILABLE = 1u << 0,
  LCR_DIVISOR_LATCH = 1u << 7,
  LCR_8N1 = 0x03u,
  MCR_OUT2 = 1u << 3,
  LSR_DATA_READY = 1u << 0,
  LSR_TX_EMPTY = 1u << 5,
  MSTATUS_MIE = 1u << 3,
  MIE_MEIE = 1u << 11
};

void es_uart_init(void) {
  __asm__ volatile(ES_ZICSR("csrc mstatus, %0") ::"r"(MSTATUS_MIE) : "memory");
  UART_LCR = LCR_DIVISOR_LATCH;
  UART_RBR = 1; /* divisor 1 (low byte 1, high byte 0): the fastest rate */
  UART_IER = 0;
  UART_LCR = LCR_8N1;
  /* The FIFOs stay off (one byte at a time): enabling them flushes what the hub may already have
   * sent while this program was starting. */
  UART_MCR = MCR_OUT2;
  UART_IER = IER_RX_AVAILABLE;
  PLIC_PRIORITY(UART_SOURCE) = 1;
  PLIC_ENABLE_HART0_M = 1u << UART_SOURCE;
  PLIC_THRESHOLD_HART0_M = 0;
  __asm__ volatile(ES_ZICSR("csrs mie, %0") ::"r"(MIE_MEIE) : "memory");
}

void es_uart_write(const uint8_t *bytes, size_t length) {
  size_t i;
  for (i = 0; i < length; ++i) {
    while (!(UART_LSR & LSR_TX_EMPTY)) {
    }
    UART_RBR = bytes[i];
  }
}

void es_uart_read(uint8_t *bytes, size_t length) {
  size_t i;
  for (i = 0; i < length; ++i) {
    while (!(UART_LSR & LSR_DATA_READY)) {
      __asm__ volatile("wfi" ::: "memory");
      /* Claim and complete, so the PLIC holds no wake-up pending for a byte already read. */
      PLIC_CLAIM_HART0_M = PLIC_CLAIM_HART0_M;
    }
    bytes[i] = UART_RBR;
  }
}
