/* The CMSDK APB UART every mps2/mps3 board has (UART0 at ES_UART_BASE, given by the target's
 * board description). Interrupts stay masked by PRIMASK: the RX interrupt is enabled only so
 * that WFI wakes when a byte arrives; the loop then polls the status register. The UART's
 * interrupt number differs between boards (and between QEMU versions), so every NVIC line is
 * enabled; no other peripheral is set up to raise one. */
#include "board.h"

#define UART_DATA (*(volatile uint32_t *)(ES_UART_BASE + 0x00u))
#define UART_STATE (*(volatile uint32_t *)(ES_UART_BASE + 0x04u))
#define UART_CTRL (*(volatile uint32_t *)(ES_UART_BASE + 0x08u))
#define UART_INTCLEAR (*(volatile uint32_t *)(ES_UART_BASE + 0x0Cu))
#define UART_BAUDDIV (*(volatile uint32_t *)(ES_UART_BASE + 0x10u))

enum {
  STATE_TX_FULL = 1u << 0,
  STATE_RX_FULL = 1u << 1,
  CTRL_TX_ENABLE = 1u << 0,
  CTRL_RX_ENABLE = 1u << 1,
  CTRL_RX_INTERRUPT = 1u << 3,
  INT_RX = 1u << 1,
  NVIC_WORDS = 16
};

static volatile uint32_t *const nvic_iser = (volatile uint32_t *)0xE000E100u;
static volatile uint32_t *const nvic_icpr = (volatile uint32_t *)0xE000E280u;

void es_uart_init(void) {
  int i;
  __asm__ volatile("cpsid i" ::: "memory");
  UART_BAUDDIV = 16; /* the smallest divider the UART accepts */
  UART_CTRL = CTRL_TX_ENABLE | CTRL_RX_ENABLE | CTRL_RX_INTERRUPT;
  for (i = 0; i < NVIC_WORDS; ++i) nvic_iser[i] = 0xFFFFFFFFu;
}

void es_uart_write(const uint8_t *bytes, size_t length) {
  size_t i;
  for (i = 0; i < length; ++i) {
    while (UART_STATE & STATE_TX_FULL) {
    }
    UART_DATA = bytes[i];
  }
}

void es_uart_read(uint8_t *bytes, size_t length) {
  size_t i;
  int w;
  for (i = 0; i < length; ++i) {
    while (!(UART_STATE & STATE_RX_FULL)) {
      __asm__ volatile("wfi" ::: "memory");
      UART_INTCLEAR = INT_RX;
      for (w = 0; w < NVIC_WORDS; ++w) nvic_icpr[w] = 0xFFFFFFFFu;
    }
    bytes[i] = (uint8_t)UART_DATA;
  }
}
