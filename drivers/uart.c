/* SPDX-License-Identifier: BSD-2-Clause */
/* 16550 UART driver: polled output only (umbra never takes input). */
#include "drivers/uart.h"
#include "arch/x86/cpu.h"

/* Register offsets (16550 data sheet). */
#define UART_THR 0 /* transmit holding (DLAB=0) */
#define UART_DLL 0 /* divisor low (DLAB=1) */
#define UART_IER 1
#define UART_DLM 1
#define UART_FCR 2
#define UART_LCR 3
#define UART_MCR 4
#define UART_LSR 5
#define UART_SCR 7

#define LCR_8N1 0x03
#define LCR_DLAB 0x80
#define LSR_THRE 0x20
#define UART_CLOCK_DIV 115200

static uint16_t uart_port;

bool uart_init(uint16_t port, uint32_t baud)
{
	uint32_t div = baud ? UART_CLOCK_DIV / baud : 1;

	/* The scratch register tells a UART from an empty port. */
	outb(port + UART_SCR, 0x5a);
	if (inb(port + UART_SCR) != 0x5a) {
		uart_port = 0;
		return false;
	}
	outb(port + UART_IER, 0);
	outb(port + UART_LCR, LCR_DLAB);
	outb(port + UART_DLL, div & 0xff);
	outb(port + UART_DLM, (div >> 8) & 0xff);
	outb(port + UART_LCR, LCR_8N1);
	outb(port + UART_FCR, 0x07); /* enable and clear FIFOs */
	outb(port + UART_MCR, 0x03); /* DTR, RTS */
	uart_port = port;
	return true;
}

void uart_putc(char c)
{
	unsigned int spins = 0;

	if (!uart_port)
		return;
	/* Bounded wait: a wedged UART must not hang the hypervisor. */
	while (!(inb(uart_port + UART_LSR) & LSR_THRE) && spins++ < 100000)
		cpu_relax();
	outb(uart_port + UART_THR, (uint8_t)c);
}

void uart_write(const char *s, size_t len)
{
	for (size_t i = 0; i < len; i++) {
		if (s[i] == '\n')
			uart_putc('\r');
		uart_putc(s[i]);
	}
}

void uart_flush(void)
{
	unsigned int spins = 0;

	if (!uart_port)
		return;
	/* LSR bit 6: transmitter and FIFO empty. */
	while (!(inb(uart_port + UART_LSR) & 0x40) && spins++ < 1000000)
		cpu_relax();
}
