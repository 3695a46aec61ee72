#ifndef PETREL_TIMEUTIL_H
#define PETREL_TIMEUTIL_H

#include <stdint.h>

/* Milliseconds/microseconds on the monotonic clock: for durations only. */
uint64_t time_mono_ms(void);
uint64_t time_mono_us(void);
/* Milliseconds since the Unix epoch. */
uint64_t time_wall_ms(void);

#endif
