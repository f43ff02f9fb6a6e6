/* libFuzzer target: the shared-cache rules (lib/proto/http_cache) on a
 * request head followed by the response head an upstream sent for it,
 * both from the input as they would come off the wire: every query the
 * edge makes of a stored response, with the stored head rebuilt from
 * itself and merged with itself as if it were a 304. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "lib/proto/http_cache.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct pc_http_head req, resp, merged;
	const char *in = (const char *)data;
	int n = pc_http_parse_request(in, size, size, &req);
	if (n <= 0)
		return 0;
	int m = pc_http_parse_response(in + n, size - (size_t)n, size - (size_t)n, &resp);
	if (m <= 0)
		return 0;
	const int64_t now = INT64_C(1700000000);
	struct pc_cache_control rq, rs;
	pc_cache_control_request(&req, &rq);
	pc_cache_control_response(&resp, &rs);
	(void)pc_cache_store_name(pc_cache_storable(&req, &resp));
	struct pc_cache_entry entry;
	pc_cache_entry_init(&entry, &resp, now - 1, now);
	for (int64_t t = now; t < now + 100000; t += 9999)
		(void)pc_cache_use_name(pc_cache_decide(&entry, &rq, t));
	(void)pc_cache_stale_on_error(&entry, &rq, now + 50);
	if (pc_cache_entry_age(&entry, now) < 0)
		abort();

	char buf[8192];
	int k = pc_cache_vary_key(&resp, &req, buf, sizeof buf);
	if (k > (int)sizeof buf)
		abort();
	k = pc_cache_validators(&resp, buf, sizeof buf);
	if (k > (int)sizeof buf)
		abort();
	(void)pc_cache_conditional(&req, &resp);
	struct pc_cache_byte_range range;
	uint64_t body = size;
	if (pc_cache_range(&req, &resp, body, &range) == PC_CACHE_RANGE_PARTIAL &&
	    (range.first > range.last || range.last >= body))
		abort();
	(void)pc_cache_invalidates(&req, &resp);
	struct pc_cache_span paths[2];
	(void)pc_cache_invalidation_paths(&resp, "http://o.example", paths);
	(void)pc_cache_head_matches(&resp, &resp);
	for (unsigned i = 0; i < resp.n_fields; i++)
		(void)pc_cache_field_in_304(&resp, &resp.fields[i]);

	/* The stored head must parse back: the edge re-reads it. */
	static char head[65536];
	int h = pc_cache_write_head(&resp, &resp, head, sizeof head);
	if (h > 0 && pc_http_parse_response(head, (size_t)h, sizeof head, &merged) != h)
		abort();
	return 0;
}
