/*
 * clock.h - privd's two clocks.
 *
 * The wall clock stamps audit events and decides what is old enough to
 * prune; the monotonic clock times everything that waits (checkpoint
 * deadlines, housekeeping intervals), so that a step of the wall clock
 * never delays or hurries a timer.
 *
 * For tests only, the wall clock can be shifted: if the environment names
 * a file in PRIVD_TEST_CLOCK_FILE, privd's wall clock is the system's plus
 * the number of seconds (signed decimal) that the file holds, re-read when
 * it changes. Tests move privd's time with it instead of sleeping. privd
 * logs a warning at start when it is set; nothing else reads it.
 */
#ifndef PRIVD_CLOCK_H
#define PRIVD_CLOCK_H

#include <stdbool.h>
#include <stdint.h>
#include <time.h>

/* Read PRIVD_TEST_CLOCK_FILE once at start (before any thread). Returns
 * true if the test clock is in use. */
bool clock_init(void);

/* Microseconds since the Unix epoch, UTC: privd's wall clock. */
uint64_t clock_wall_us(void);

/* Microseconds on CLOCK_MONOTONIC. */
uint64_t clock_mono_us(void);

/* Microseconds on CLOCK_BOOTTIME: monotonic, and counting the time the
 * host was suspended (what the wall clock also counts). */
uint64_t clock_boot_us(void);

/* A CLOCK_MONOTONIC timespec for a monotonic time in microseconds. */
struct timespec clock_mono_ts(uint64_t mono_us);

#endif
