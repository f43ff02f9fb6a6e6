/* crc32c: CRC-32C (Castagnoli), the checksum the report store puts on every
 * record. Pure, any thread. */
#ifndef PC_LIB_CRC32C_H
#define PC_LIB_CRC32C_H

#include <stddef.h>
#include <stdint.h>

/* The CRC-32C of len bytes at data, continuing crc (0 to start):
 * pc_crc32c(0, "123456789", 9) == 0xE3069283. */
uint32_t pc_crc32c(uint32_t crc, const void *data, size_t len);

#endif
