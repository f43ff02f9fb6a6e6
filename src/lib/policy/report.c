/* Formats the record of claim 3 (docs/reporting.md): one line of key=value
 * fields. Every value is percent-escaped outside a small safe set, so an
 * object name chosen by a client can never add a field or a line. The
 * time is UTC computed here from unix milliseconds: no localtime, no
 * locale, no I/O, safe on any thread. */
#include "lib/policy/report.h"

#include <string.h>

#include "lib/base/err.h"

bool pc_report_due(const pc_decision *decision)
{
	return decision != NULL &&
	       (decision->branch == PC_BRANCH_PEER || decision->branch == PC_BRANCH_OUTSIDE);
}

struct writer {
	char *out;
	size_t size, len;
	bool overflow;
};

static void put(struct writer *w, const char *text, size_t len)
{
	if (w->overflow || w->len + len + 1 > w->size) {
		w->overflow = true;
		return;
	}
	memcpy(w->out + w->len, text, len);
	w->len += len;
	w->out[w->len] = '\0';
}

static void puts_(struct writer *w, const char *text)
{
	put(w, text, strlen(text));
}

static void put_uint(struct writer *w, uint64_t value, unsigned min_digits)
{
	char buf[24];
	unsigned n = 0;
	do {
		buf[sizeof(buf) - 1 - n++] = (char)('0' + value % 10);
		value /= 10;
	} while (value != 0 || n < min_digits);
	put(w, buf + sizeof(buf) - n, n);
}

/* Unreserved characters of RFC 3986 plus ':', '/', '@' and ',' (flag lists) pass; every other
 * byte, '%' and '=' and space and control bytes included, becomes %XX. */
static bool safe(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       c == '-' || c == '.' || c == '_' || c == '~' || c == ':' || c == '/' || c == '@' ||
	       c == ',';
}

static void put_value(struct writer *w, const char *value, size_t len)
{
	static const char hex[] = "0123456789ABCDEF";
	if (value == NULL || len == 0) {
		put(w, "-", 1);
		return;
	}
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)value[i];
		if (safe(c)) {
			put(w, (const char *)&c, 1);
		} else {
			char esc[3] = {'%', hex[c >> 4], hex[c & 15]};
			put(w, esc, 3);
		}
	}
}

static void field(struct writer *w, const char *key, const char *value)
{
	if (w->len > 0)
		put(w, " ", 1);
	puts_(w, key);
	put(w, "=", 1);
	put_value(w, value, value == NULL ? 0 : strlen(value));
}

/* Howard Hinnant's civil_from_days: days since 1970-01-01 to a proleptic
 * Gregorian date, valid for every uint64 millisecond count we can get. */
static void civil(uint64_t days, uint64_t *year, unsigned *month, unsigned *day)
{
	uint64_t z = days + 719468;
	uint64_t era = z / 146097;
	uint64_t doe = z - era * 146097;
	uint64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	uint64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	uint64_t mp = (5 * doy + 2) / 153;
	*day = (unsigned)(doy - (153 * mp + 2) / 5 + 1);
	*month = (unsigned)(mp < 10 ? mp + 3 : mp - 9);
	*year = yoe + era * 400 + (*month <= 2);
}

/* RFC 3339, UTC, milliseconds: 2026-11-25T10:00:00.123Z */
static void put_time(struct writer *w, uint64_t now_ms)
{
	uint64_t secs = now_ms / 1000, year;
	unsigned month, day;
	civil(secs / 86400, &year, &month, &day);
	uint64_t sod = secs % 86400;
	put_uint(w, year, 4);
	put(w, "-", 1);
	put_uint(w, month, 2);
	put(w, "-", 1);
	put_uint(w, day, 2);
	put(w, "T", 1);
	put_uint(w, sod / 3600, 2);
	put(w, ":", 1);
	put_uint(w, sod / 60 % 60, 2);
	put(w, ":", 1);
	put_uint(w, sod % 60, 2);
	put(w, ".", 1);
	put_uint(w, now_ms % 1000, 3);
	put(w, "Z", 1);
}

/* The client's network, not its address: the provider learns where its
 * content went, to the configured prefix, and no more. */
static void put_client(struct writer *w, const pc_model *model, const pc_addr *client)
{
	if (w->len > 0)
		put(w, " ", 1);
	puts_(w, "client=");
	if (client->family != PC_AF_INET && client->family != PC_AF_INET6) {
		put(w, "-", 1);
		return;
	}
	bool v4 = client->family == PC_AF_INET;
	unsigned bits = v4 ? 32 : 128;
	unsigned prefix = v4 ? model->params.report_prefix4 : model->params.report_prefix6;
	if (prefix > bits)
		prefix = bits;
	pc_addr masked = *client;
	for (unsigned i = 0; i < bits / 8; i++) {
		unsigned keep = prefix > i * 8 ? prefix - i * 8 : 0;
		if (keep < 8)
			masked.bytes[i] &= (uint8_t)(0xff00u >> keep);
	}
	char text[64];
	int n = pc_addr_format(&masked, text, sizeof(text));
	if (n < 0) {
		put(w, "-", 1);
		return;
	}
	put(w, text, (size_t)n);
	put(w, "/", 1);
	put_uint(w, prefix, 1);
}

uint32_t pc_report_exchange(const pc_model *model, const pc_decision *decision)
{
	if (model == NULL || decision == NULL || decision->agreement >= model->n_agreements)
		return PC_NONE;
	const struct pc_agreement *agreement = &model->agreements[decision->agreement];
	if (model->cdns[agreement->cdn_a].exchange)
		return agreement->cdn_a;
	if (model->cdns[agreement->cdn_b].exchange)
		return agreement->cdn_b;
	return PC_NONE;
}

/* Why the provider's content left its primary CDNs (docs/reporting.md). */
static const char *reason(const pc_decision *decision)
{
	if (decision->branch == PC_BRANCH_PEER)
		return decision->flags & PC_DF_PREFERRED ? "PEER_PREFERRED" : "PEER";
	if (decision->branch != PC_BRANCH_OUTSIDE)
		return pc_branch_name(decision->branch);
	if (decision->agreement != PC_NONE)
		return "EXCHANGE";
	if (decision->flags & PC_DF_PREFERRED)
		return "PREFERRED";
	if (decision->flags & PC_DF_FALLBACK)
		return "FALLBACK";
	if (decision->flags & PC_DF_AGREEMENT_FULL)
		return "AGREEMENT_FULL";
	if (decision->flags & PC_DF_NO_CLIENT_CDN)
		return "NO_CLIENT_CDN";
	return "NO_AGREEMENT";
}

int pc_report_format(const pc_model *model, const pc_request *req, const pc_decision *decision,
                     uint64_t now_ms, char *out, size_t out_size)
{
	if (model == NULL || req == NULL || decision == NULL || out == NULL || out_size == 0)
		return PC_EINVAL;
	if (decision->branch == PC_BRANCH_NONE || decision->n_servers == 0 ||
	    decision->cdn >= model->n_cdns || decision->servers[0] >= model->n_servers ||
	    req->provider >= model->n_providers || req->service >= model->n_services)
		return PC_EINVAL;
	struct writer w = {.out = out, .size = out_size};
	out[0] = '\0';
	puts_(&w, "ts=");
	put_time(&w, now_ms);
	field(&w, "provider", model->providers[req->provider].name);
	put_client(&w, model, &req->client);
	puts_(&w, " as=");
	if (decision->client_as < model->n_ases)
		put_uint(&w, model->ases[decision->client_as].asn, 1);
	else
		put(&w, "-", 1);
	puts_(&w, " object=");
	put_value(&w, req->object, req->object == NULL ? 0 : req->object_len);
	field(&w, "service", model->services[req->service].name);
	field(&w, "branch", pc_branch_name(decision->branch));
	field(&w, "cdn", model->cdns[decision->cdn].name);
	field(&w, "server", model->servers[decision->servers[0]].name);
	field(&w, "agreement",
	      decision->agreement < model->n_agreements
	          ? model->agreements[decision->agreement].name
	          : NULL);
	field(&w, "reason", reason(decision));
	char flags[160];
	if (pc_decision_flags_format(decision->flags, flags, sizeof(flags)) < 0)
		return PC_ESPACE;
	field(&w, "flags", flags);
	if (w.overflow) {
		out[0] = '\0';
		return PC_ESPACE;
	}
	return (int)w.len;
}
