/* libFuzzer target: the HTTP/1.1 message parser (lib/proto/http_msg) as
 * the edge meets it, an upstream's response and a client's request. A head
 * that parses is framed, and a chunked body after it is decoded whole and
 * byte by byte: both must agree on the body, where the message ends and
 * the verdict, or a fill could differ with how the network cut the bytes.
 * Fields go through the list walker, the hop-by-hop test and, as dates,
 * the date parser and formatter. */
#include <stdlib.h>
#include <string.h>

#include "lib/proto/http_msg.h"

enum { HEAD_MAX = 16384 };

struct decoded {
	int rc;
	size_t used;
	size_t body_len;
	uint8_t *body;
};

/* Decodes in[0..len) delivered step bytes at a time. */
static void decode(const uint8_t *in, size_t len, size_t step, struct decoded *out)
{
	struct pc_http_chunked chunked;
	pc_http_chunked_init(&chunked);
	size_t off = 0, delivered = step < len ? step : len;
	out->body_len = 0;
	for (;;) {
		size_t consumed = (size_t)-1, data_len;
		const char *data;
		int rc = pc_http_chunked_feed(&chunked, (const char *)in + off, delivered - off,
		                              &consumed, &data, &data_len);
		if (consumed > delivered - off)
			abort();
		if (data_len > 0) {
			if ((const uint8_t *)data < in + off ||
			    (const uint8_t *)data + data_len > in + off + consumed)
				abort();
			memcpy(out->body + out->body_len, data, data_len);
			out->body_len += data_len;
		}
		off += consumed;
		if (rc != 0 || (off == delivered && delivered == len)) {
			out->rc = rc;
			out->used = off;
			return;
		}
		if (rc == 0 && consumed == 0 && data_len == 0 && off < delivered)
			abort(); /* no progress with input there */
		if (off == delivered)
			delivered = delivered + step < len ? delivered + step : len;
	}
}

static void check_chunked(const uint8_t *in, size_t len)
{
	struct decoded whole, bytes, halves;
	whole.body = malloc(len + 1);
	bytes.body = malloc(len + 1);
	halves.body = malloc(len + 1);
	if (whole.body == NULL || bytes.body == NULL || halves.body == NULL)
		abort();
	decode(in, len, len, &whole);
	decode(in, len, 1, &bytes);
	decode(in, len, len / 2 + 1, &halves);
	const struct decoded *other[2] = {&bytes, &halves};
	for (int i = 0; i < 2; i++) {
		/* An error may be seen at a different point; the verdict and,
		 * on success, the body and the end must be the same. */
		if (other[i]->rc != whole.rc)
			abort();
		if (whole.rc == 1 &&
		    (other[i]->used != whole.used || other[i]->body_len != whole.body_len ||
		     memcmp(other[i]->body, whole.body, whole.body_len) != 0))
			abort();
	}
	if (whole.rc >= 0 && whole.body_len > whole.used)
		abort();
	free(whole.body);
	free(bytes.body);
	free(halves.body);
}

/* Fields of a head parsed from in[0..n): lists walk within it. */
static void check_fields(const struct pc_http_head *head, const char *in, size_t n)
{
	for (unsigned i = 0; i < head->n_fields; i++) {
		const struct pc_http_field *f = &head->fields[i];
		(void)pc_http_field_is_hop(head, f);
		int64_t t = pc_http_date_parse(f->value, f->value_len);
		if (t < -1)
			abort();
		if (t >= 0) {
			char out[PC_HTTP_DATE_SIZE];
			pc_http_date_format(t, out);
			if (strlen(out) != PC_HTTP_DATE_SIZE - 1 ||
			    pc_http_date_parse(out, PC_HTTP_DATE_SIZE - 1) != t)
				abort();
		}
		/* The first field of a name walks the lists of all of them. */
		char name[64];
		if (f->name_len >= sizeof(name))
			continue;
		memcpy(name, f->name, f->name_len);
		name[f->name_len] = '\0';
		if (pc_http_field_find(head, name, 0) != f)
			continue;
		struct pc_http_list list;
		const char *item;
		uint32_t len;
		pc_http_list_begin(&list, head, name);
		while (pc_http_list_next(&list, &item, &len))
			if (len == 0 || item < in || item + len > in + n)
				abort();
	}
}

/* A head that parsed: every strict prefix of it is "need more". */
static void check_prefixes(const uint8_t *data, int n, bool request)
{
	struct pc_http_head head;
	size_t cuts[3] = {0, (size_t)n / 2, (size_t)n - 1};
	for (int i = 0; i < 3; i++) {
		int rc = request
		             ? pc_http_parse_request((const char *)data, cuts[i], HEAD_MAX, &head)
		             : pc_http_parse_response((const char *)data, cuts[i], HEAD_MAX, &head);
		if (rc != 0)
			abort();
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct pc_http_head head;
	const char *in = (const char *)data;
	enum pc_http_framing framing;
	uint64_t length;

	int n = pc_http_parse_response(in, size, HEAD_MAX, &head);
	if (n > 0) {
		if ((size_t)n > size || head.head_len != (size_t)n || head.status < 100 ||
		    head.status > 599 || head.n_fields > PC_HTTP_MAX_FIELDS)
			abort();
		check_prefixes(data, n, false);
		check_fields(&head, in, (size_t)n);
		if (pc_http_response_framing(&head, false, &framing, &length) == 0 &&
		    framing == PC_HTTP_BODY_CHUNKED)
			check_chunked(data + n, size - (size_t)n);
		(void)pc_http_response_framing(&head, true, &framing, &length);
		if (framing != PC_HTTP_BODY_NONE)
			abort();
	}

	n = pc_http_parse_request(in, size, HEAD_MAX, &head);
	if (n > 0) {
		if ((size_t)n > size || head.method_len == 0 || head.target_len == 0)
			abort();
		check_prefixes(data, n, true);
		check_fields(&head, in, (size_t)n);
		if (pc_http_request_framing(&head, &framing, &length) == 0 &&
		    framing == PC_HTTP_BODY_CHUNKED)
			check_chunked(data + n, size - (size_t)n);
	}

	/* The whole input as a chunked body, too: most fuzz inputs never make
	 * a head. */
	check_chunked(data, size);
	(void)pc_http_date_parse(in, size);
	return 0;
}
