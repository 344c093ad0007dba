/* Between an architecture's reset and fault code and the shared start-up (board-startup.c). */
#ifndef EDGESPLIT_BOARD_STARTUP_H
#define EDGESPLIT_BOARD_STARTUP_H

#include <stdint.h>

/* Initialises memory, runs main with the semihosting command line and exits with its value. */
__attribute__((noreturn)) void es_start(void);

/* Ends QEMU with status 128 + `number` (an exception number or trap cause, 0..127), so a crash
 * never leaves an instance running. */
__attribute__((noreturn)) void es_fault_exit(uint32_t number);

#endif
