/* libFuzzer target: the overlay's wire format (lib/proto/overlay_msg.h)
 * over any byte stream. Besides not crashing: the frame finder and the
 * decoder agree on a whole frame's length; a frame that decodes encodes
 * back to the same bytes (but for options, which the encoder does not
 * write); a DATA payload's records decode to views inside it and encode
 * back to the same bytes; and a link session refuses any input that was
 * not authenticated under its key without changing its state. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "lib/proto/overlay_msg.h"

static void check_records(const uint8_t *p, size_t len)
{
	static uint8_t again[70000];
	size_t off = 0;
	while (off < len) {
		struct pc_ovl_record rec;
		size_t used;
		int rc = pc_ovl_record_decode(p + off, len - off, &rec, &used);
		if (used > len - off)
			abort();
		if (rc != 0) {
			if (rec.fault == PC_OVL_FAULT_NONE || rec.fault >= PC_OVL_FAULT__COUNT)
				abort();
			if (used == 0)
				return;
			off += used;
			continue;
		}
		int n = pc_ovl_record_encode(&rec, again, sizeof(again));
		/* a later version's trailing bytes are not re-encoded */
		if (n <= 0 || (size_t)n > used ||
		    memcmp(again + 4, p + off + 4, (size_t)n - 4) != 0)
			abort();
		off += used;
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static uint8_t again[PC_OVL_FRAME_MAX];
	long whole = pc_ovl_frame_find(data, size);
	struct pc_ovl_msg m;
	int rc = pc_ovl_decode(data, size, &m);
	if (rc == 0 && whole != (long)size)
		abort();
	if (rc != 0) {
		if (m.fault == PC_OVL_FAULT_NONE || m.fault >= PC_OVL_FAULT__COUNT)
			abort();
	} else {
		if (m.fault != PC_OVL_FAULT_NONE)
			abort();
		int n = pc_ovl_encode(&m, again, sizeof(again));
		if (n <= 0 || (size_t)n > size)
			abort();
		/* the same bytes up to the options; the length field may differ */
		size_t body = (size_t)n - PC_OVL_HEADER_LEN - PC_OVL_MAC_LEN;
		if (memcmp(again, data, 6) != 0 || /* magic to flags; not the reserved bytes */
		    memcmp(again + PC_OVL_OFF_SENDER, data + PC_OVL_OFF_SENDER,
		           PC_OVL_HEADER_LEN - PC_OVL_OFF_SENDER + body) != 0)
			abort();
		if (m.unknown_options == 0 && (size_t)n == size &&
		    memcmp(again + 8, data + 8, size - 8 - PC_OVL_MAC_LEN) != 0)
			abort();
		if (m.type == PC_OVL_DATA)
			check_records(m.u.data.payload, m.u.data.payload_len);
	}
	/* the input also read as a payload of records */
	check_records(data, size);

	/* a session that has heard router 2's HELLO takes nothing forged */
	static const uint8_t key[PC_OVL_KEY_LEN] = {1, 2, 3};
	static const uint8_t nonce[PC_OVL_NONCE_LEN] = {4, 5, 6};
	struct pc_ovl_link link;
	pc_ovl_link_init(&link, key, 1, 2, nonce);
	struct pc_ovl_link before = link;
	rc = pc_ovl_link_read(&link, data, size, &m);
	if (rc == 0 || memcmp(&before, &link, sizeof(link)) != 0)
		abort();
	pc_ovl_link_wipe(&link);
	return 0;
}
