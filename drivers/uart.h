/* SPDX-License-Identifier: BSD-2-Clause */
/* 16550 UART on an I/O port, polled. */
#ifndef UMBRA_DRIVERS_UART_H
#define UMBRA_DRIVERS_UART_H

#include "core/types.h"

#define UART_COM1 0x3f8

/* Program port for baud 8N1, FIFOs on, interrupts off. Returns false when no UART answers. */
bool uart_init(uint16_t port, uint32_t baud);
void uart_putc(char c);
void uart_write(const char *s, size_t len);
/* Wait (bounded) until every byte has left the transmitter. */
void uart_flush(void);

#endif
