/* http_cache: RFC 9111 shared-cache semantics as pure functions; see
 * http_cache.h for the contract of each. */
#include "lib/proto/http_cache.h"

#include <string.h>
#include <strings.h>

#include "lib/base/err.h"

/* ---- small text helpers ---- */

static bool span_eq(const char *s, size_t len, const char *lit)
{
	size_t n = strlen(lit);
	return len == n && strncasecmp(s, lit, n) == 0;
}

static bool is_ws(char c)
{
	return c == ' ' || c == '\t';
}

static bool is_tchar(unsigned char c)
{
	if ((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'))
		return true;
	return c != 0 && strchr("!#$%&'*+-.^_`|~", c) != NULL;
}

/* 1*DIGIT, capped at 2^31 (§1.2.2); -1 when not all digits. */
static int64_t parse_delta(const char *s, size_t len)
{
	if (len == 0)
		return -1;
	int64_t v = 0;
	for (size_t i = 0; i < len; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		if (v < PC_CACHE_DELTA_MAX)
			v = v * 10 + (s[i] - '0');
	}
	return v > PC_CACHE_DELTA_MAX ? PC_CACHE_DELTA_MAX : v;
}

/* The first field named name, its value as a date, or -1. */
static int64_t field_date(const struct pc_http_head *head, const char *name)
{
	const struct pc_http_field *f = pc_http_field_find(head, name, 0);
	return f ? pc_http_date_parse(f->value, f->value_len) : -1;
}

/* ---- Cache-Control ---- */

/* A directive's argument without the quotes of a quoted-string
 * (§5.2: recipients accept both forms). Escapes are kept as they are: no
 * argument this cache reads can hold one validly. */
static void unquote(const char **val, size_t *len)
{
	if (*len >= 2 && (*val)[0] == '"' && (*val)[*len - 1] == '"') {
		(*val)++;
		*len -= 2;
	}
}

static void set_delta(int64_t *slot, bool has_arg, const char *val, size_t len)
{
	if (*slot != PC_CC_ABSENT)
		return; /* first occurrence counts */
	int64_t v = has_arg ? parse_delta(val, len) : -1;
	*slot = v < 0 ? PC_CC_INVALID : v;
}

static void parse_cc(const struct pc_http_head *head, const char *field, bool request,
                     struct pc_cache_control *out)
{
	*out = (struct pc_cache_control){.max_age = PC_CC_ABSENT,
	                                 .s_maxage = PC_CC_ABSENT,
	                                 .stale_while_revalidate = PC_CC_ABSENT,
	                                 .stale_if_error = PC_CC_ABSENT,
	                                 .max_stale = PC_CC_ABSENT,
	                                 .min_fresh = PC_CC_ABSENT};
	struct pc_http_list list;
	const char *item;
	uint32_t item_len;
	pc_http_list_begin(&list, head, field);
	while (pc_http_list_next(&list, &item, &item_len)) {
		size_t name_len = 0;
		while (name_len < item_len && is_tchar((unsigned char)item[name_len]))
			name_len++;
		bool has_arg = name_len < item_len && item[name_len] == '=';
		if (name_len == 0 || (name_len < item_len && !has_arg))
			continue; /* not a directive (`max-age =1`): ignored */
		const char *val = has_arg ? item + name_len + 1 : NULL;
		size_t val_len = has_arg ? item_len - name_len - 1 : 0;
		if (has_arg)
			unquote(&val, &val_len);
		/* A qualified form with an empty list is the unqualified one. */
		bool fields = has_arg && val_len > 0;
		if (span_eq(item, name_len, "max-age"))
			set_delta(&out->max_age, has_arg, val, val_len);
		else if (span_eq(item, name_len, "no-store"))
			out->flags |= PC_CC_NO_STORE;
		else if (span_eq(item, name_len, "no-cache"))
			out->flags |= fields && !request ? PC_CC_NO_CACHE_FIELDS : PC_CC_NO_CACHE;
		else if (request && span_eq(item, name_len, "max-stale")) {
			if (!has_arg)
				out->flags |= PC_CC_MAX_STALE_ANY;
			else
				set_delta(&out->max_stale, has_arg, val, val_len);
		} else if (request && span_eq(item, name_len, "min-fresh"))
			set_delta(&out->min_fresh, has_arg, val, val_len);
		else if (request && span_eq(item, name_len, "only-if-cached"))
			out->flags |= PC_CC_ONLY_IF_CACHED;
		else if (span_eq(item, name_len, "no-transform"))
			out->flags |= PC_CC_NO_TRANSFORM;
		else if (span_eq(item, name_len, "stale-if-error"))
			set_delta(&out->stale_if_error, has_arg, val, val_len);
		else if (request)
			continue;
		else if (span_eq(item, name_len, "s-maxage"))
			set_delta(&out->s_maxage, has_arg, val, val_len);
		else if (span_eq(item, name_len, "private"))
			out->flags |= fields ? PC_CC_PRIVATE_FIELDS : PC_CC_PRIVATE;
		else if (span_eq(item, name_len, "public"))
			out->flags |= PC_CC_PUBLIC;
		else if (span_eq(item, name_len, "must-revalidate"))
			out->flags |= PC_CC_MUST_REVALIDATE;
		else if (span_eq(item, name_len, "proxy-revalidate"))
			out->flags |= PC_CC_PROXY_REVALIDATE;
		else if (span_eq(item, name_len, "immutable"))
			out->flags |= PC_CC_IMMUTABLE;
		else if (span_eq(item, name_len, "must-understand"))
			out->flags |= PC_CC_MUST_UNDERSTAND;
		else if (span_eq(item, name_len, "stale-while-revalidate"))
			set_delta(&out->stale_while_revalidate, has_arg, val, val_len);
	}
}

/* ---- CDN-Cache-Control (RFC 9213) ----
 *
 * A targeted field is a Structured Field Dictionary (RFC 8941 §3.2), read
 * with §4.2's parsing rules: a field line that does not parse makes the
 * whole field invalid, and an invalid or empty field is ignored (§2.1). */

/* An SF bare item or inner list, as much as this cache reads of it. */
enum sf_type { SF_INTEGER, SF_DECIMAL, SF_STRING, SF_TOKEN, SF_BYTES, SF_BOOLEAN, SF_INNER };

struct sf_value {
	enum sf_type type;
	int64_t integer; /* SF_INTEGER; SF_BOOLEAN: 0 or 1 */
};

struct sf_in {
	const char *p, *end;
};

static bool sf_lcalpha(char c)
{
	return c >= 'a' && c <= 'z';
}

static bool sf_digit(char c)
{
	return c >= '0' && c <= '9';
}

static bool sf_alpha(char c)
{
	return sf_lcalpha(c) || (c >= 'A' && c <= 'Z');
}

static void sf_skip_sp(struct sf_in *in)
{
	while (in->p < in->end && *in->p == ' ')
		in->p++;
}

static void sf_skip_ows(struct sf_in *in)
{
	while (in->p < in->end && is_ws(*in->p))
		in->p++;
}

/* key = ( lcalpha / "*" ) *( lcalpha / DIGIT / "_" / "-" / "." / "*" ) */
static bool sf_key(struct sf_in *in, const char **key, size_t *key_len)
{
	const char *start = in->p;
	if (in->p >= in->end || !(sf_lcalpha(*in->p) || *in->p == '*'))
		return false;
	while (in->p < in->end && (sf_lcalpha(*in->p) || sf_digit(*in->p) || *in->p == '_' ||
	                           *in->p == '-' || *in->p == '.' || *in->p == '*'))
		in->p++;
	*key = start;
	*key_len = (size_t)(in->p - start);
	return true;
}

static bool sf_number(struct sf_in *in, struct sf_value *out)
{
	bool negative = false;
	if (in->p < in->end && *in->p == '-') {
		negative = true;
		in->p++;
	}
	if (in->p >= in->end || !sf_digit(*in->p))
		return false;
	int64_t v = 0;
	size_t digits = 0, frac = 0; /* of the integer part, of the fraction */
	bool decimal = false;
	for (; in->p < in->end; in->p++) {
		char c = *in->p;
		if (c == '.' && !decimal && digits <= 12)
			decimal = true;
		else if (!sf_digit(c))
			break;
		else if (decimal)
			frac++;
		else
			v = v * 10 + (c - '0');
		if (!decimal && sf_digit(c) && ++digits > 15)
			return false;
		if (frac > 3)
			return false;
	}
	if (decimal && frac == 0)
		return false;
	out->type = decimal ? SF_DECIMAL : SF_INTEGER;
	out->integer = negative ? -v : v;
	return true;
}

static bool sf_bare_item(struct sf_in *in, struct sf_value *out)
{
	if (in->p >= in->end)
		return false;
	char c = *in->p;
	if (c == '-' || sf_digit(c))
		return sf_number(in, out);
	if (c == '"') {
		for (in->p++; in->p < in->end; in->p++) {
			unsigned char ch = (unsigned char)*in->p;
			if (ch == '\\') {
				in->p++;
				if (in->p >= in->end || (*in->p != '"' && *in->p != '\\'))
					return false;
			} else if (ch == '"') {
				in->p++;
				out->type = SF_STRING;
				return true;
			} else if (ch < 0x20 || ch > 0x7e) {
				return false;
			}
		}
		return false; /* no closing quote */
	}
	if (c == '*' || sf_alpha(c)) {
		while (in->p < in->end &&
		       (is_tchar((unsigned char)*in->p) || *in->p == ':' || *in->p == '/'))
			in->p++;
		out->type = SF_TOKEN;
		return true;
	}
	if (c == ':') {
		for (in->p++; in->p < in->end && *in->p != ':'; in->p++)
			if (!sf_alpha(*in->p) && !sf_digit(*in->p) && !strchr("+/=", *in->p))
				return false;
		if (in->p >= in->end)
			return false;
		in->p++;
		out->type = SF_BYTES;
		return true;
	}
	if (c == '?') {
		in->p++;
		if (in->p >= in->end || (*in->p != '0' && *in->p != '1'))
			return false;
		out->type = SF_BOOLEAN;
		out->integer = *in->p == '1';
		in->p++;
		return true;
	}
	return false;
}

/* *( ";" *SP key [ "=" bare-item ] ): parsed and ignored (RFC 9213 §2.1). */
static bool sf_parameters(struct sf_in *in)
{
	while (in->p < in->end && *in->p == ';') {
		in->p++;
		sf_skip_sp(in);
		const char *key;
		size_t key_len;
		if (!sf_key(in, &key, &key_len))
			return false;
		if (in->p < in->end && *in->p == '=') {
			in->p++;
			struct sf_value ignored;
			if (!sf_bare_item(in, &ignored))
				return false;
		}
	}
	return true;
}

static bool sf_item_or_inner_list(struct sf_in *in, struct sf_value *out)
{
	if (in->p < in->end && *in->p == '(') {
		in->p++;
		for (;;) {
			sf_skip_sp(in);
			if (in->p >= in->end)
				return false;
			if (*in->p == ')') {
				in->p++;
				out->type = SF_INNER;
				return sf_parameters(in);
			}
			struct sf_value member;
			if (!sf_bare_item(in, &member) || !sf_parameters(in))
				return false;
			if (in->p < in->end && *in->p != ' ' && *in->p != ')')
				return false;
		}
	}
	return sf_bare_item(in, out) && sf_parameters(in);
}

/* One Dictionary member of a targeted field, applied to out as
 * Cache-Control would be. A later member overrides an earlier one of the
 * same key (RFC 8941 §4.2.2). Types are those RFC 9213 §2.1 infers: a
 * delta-seconds is a non-negative Integer, a flag a Boolean; a value of
 * another type is not consumed. private and no-cache with a String of
 * field names are taken whole (unqualified): stricter, never wrong. */
static void sf_directive(const char *key, size_t key_len, const struct sf_value *v,
                         struct pc_cache_control *out)
{
	static const struct {
		const char *name;
		uint32_t flag;
	} flags[] = {
	    {"no-store", PC_CC_NO_STORE},
	    {"no-cache", PC_CC_NO_CACHE},
	    {"private", PC_CC_PRIVATE},
	    {"public", PC_CC_PUBLIC},
	    {"must-revalidate", PC_CC_MUST_REVALIDATE},
	    {"proxy-revalidate", PC_CC_PROXY_REVALIDATE},
	    {"no-transform", PC_CC_NO_TRANSFORM},
	    {"immutable", PC_CC_IMMUTABLE},
	    {"must-understand", PC_CC_MUST_UNDERSTAND},
	};
	for (size_t i = 0; i < sizeof flags / sizeof flags[0]; i++) {
		if (key_len != strlen(flags[i].name) || memcmp(key, flags[i].name, key_len) != 0)
			continue;
		bool qualified =
		    v->type == SF_STRING && flags[i].flag & (PC_CC_NO_CACHE | PC_CC_PRIVATE);
		if ((v->type == SF_BOOLEAN && v->integer) || qualified)
			out->flags |= flags[i].flag;
		else if (v->type == SF_BOOLEAN)
			out->flags &= ~flags[i].flag;
		return;
	}
	int64_t *slot = NULL;
	if (span_eq(key, key_len, "max-age"))
		slot = &out->max_age;
	else if (span_eq(key, key_len, "s-maxage"))
		slot = &out->s_maxage;
	else if (span_eq(key, key_len, "stale-while-revalidate"))
		slot = &out->stale_while_revalidate;
	else if (span_eq(key, key_len, "stale-if-error"))
		slot = &out->stale_if_error;
	if (slot != NULL && v->type == SF_INTEGER && v->integer >= 0)
		*slot = v->integer > PC_CACHE_DELTA_MAX ? PC_CACHE_DELTA_MAX : v->integer;
}

/* Reads the targeted field name of resp into out; false when it is
 * absent, empty or not a valid Dictionary (out is then undefined). */
static bool parse_targeted(const struct pc_http_head *resp, const char *name,
                           struct pc_cache_control *out)
{
	*out = (struct pc_cache_control){.max_age = PC_CC_ABSENT,
	                                 .s_maxage = PC_CC_ABSENT,
	                                 .stale_while_revalidate = PC_CC_ABSENT,
	                                 .stale_if_error = PC_CC_ABSENT,
	                                 .max_stale = PC_CC_ABSENT,
	                                 .min_fresh = PC_CC_ABSENT};
	unsigned members = 0;
	for (unsigned i = 0; i < resp->n_fields; i++) {
		const struct pc_http_field *f = &resp->fields[i];
		if (!span_eq(f->name, f->name_len, name))
			continue;
		/* Field lines combine as one list (RFC 9110 §5.3): an empty line
		 * adds nothing. */
		struct sf_in in = {f->value, f->value + f->value_len};
		while (in.p < in.end) {
			const char *key;
			size_t key_len;
			struct sf_value v = {.type = SF_BOOLEAN, .integer = 1};
			if (!sf_key(&in, &key, &key_len))
				return false;
			if (in.p < in.end && *in.p == '=') {
				in.p++;
				if (!sf_item_or_inner_list(&in, &v))
					return false;
			} else if (!sf_parameters(&in)) {
				return false;
			}
			sf_directive(key, key_len, &v, out);
			members++;
			sf_skip_ows(&in);
			if (in.p >= in.end)
				break;
			if (*in.p != ',')
				return false;
			in.p++;
			sf_skip_ows(&in);
			if (in.p >= in.end)
				return false; /* a trailing comma */
		}
	}
	if (members == 0)
		return false;
	out->flags |= PC_CC_TARGETED;
	return true;
}

void pc_cache_control_response(const struct pc_http_head *resp, struct pc_cache_control *out)
{
	/* RFC 9213 §2.2: a valid, non-empty CDN-Cache-Control replaces
	 * Cache-Control (and Expires) for this cache. */
	if (!parse_targeted(resp, "CDN-Cache-Control", out))
		parse_cc(resp, "Cache-Control", false, out);
}

void pc_cache_control_request(const struct pc_http_head *req, struct pc_cache_control *out)
{
	parse_cc(req, "Cache-Control", true, out);
	if (!pc_http_field_find(req, "Cache-Control", 0) &&
	    pc_http_field_has_token(req, "Pragma", "no-cache"))
		out->flags |= PC_CC_NO_CACHE;
}

/* Whether a qualified private= or no-cache= of resp names field name. */
static bool cc_names_field(const struct pc_http_head *resp, const char *name, size_t name_len)
{
	struct pc_http_list list;
	const char *item;
	uint32_t item_len;
	pc_http_list_begin(&list, resp, "Cache-Control");
	while (pc_http_list_next(&list, &item, &item_len)) {
		size_t n;
		if (item_len > 8 && strncasecmp(item, "private=", 8) == 0)
			n = 8;
		else if (item_len > 9 && strncasecmp(item, "no-cache=", 9) == 0)
			n = 9;
		else
			continue;
		const char *val = item + n;
		size_t val_len = item_len - n;
		unquote(&val, &val_len);
		/* A comma-separated list of field names inside the quotes. */
		size_t i = 0;
		while (i < val_len) {
			while (i < val_len && (is_ws(val[i]) || val[i] == ','))
				i++;
			size_t start = i;
			while (i < val_len && !is_ws(val[i]) && val[i] != ',')
				i++;
			if (i > start && i - start == name_len &&
			    strncasecmp(val + start, name, name_len) == 0)
				return true;
		}
	}
	return false;
}

/* ---- status codes ---- */

bool pc_cache_status_heuristic(unsigned status)
{
	switch (status) {
	case 200:
	case 203:
	case 204:
	case 206:
	case 300:
	case 301:
	case 308:
	case 404:
	case 405:
	case 410:
	case 414:
	case 501:
		return true;
	default:
		return false;
	}
}

bool pc_cache_status_understood(unsigned status)
{
	if (status >= 200 && status <= 206)
		return true;
	if (status >= 300 && status <= 308)
		return status != 306; /* 306 is reserved (RFC 9110 §15.4.7) */
	if (status >= 400 && status <= 417)
		return true;
	if (status == 421 || status == 422 || status == 426)
		return true;
	return status >= 500 && status <= 505;
}

bool pc_cache_status_is_error(unsigned status)
{
	return status == 500 || status == 502 || status == 503 || status == 504;
}

/* ---- storing ---- */

static bool method_is(const struct pc_http_head *req, const char *method)
{
	/* Methods are case-sensitive (RFC 9110 §9.1). */
	size_t n = strlen(method);
	return req->method_len == n && memcmp(req->method, method, n) == 0;
}

static bool vary_star(const struct pc_http_head *resp)
{
	struct pc_http_list list;
	const char *item;
	uint32_t item_len;
	pc_http_list_begin(&list, resp, "Vary");
	while (pc_http_list_next(&list, &item, &item_len))
		if (item_len == 1 && item[0] == '*')
			return true;
	return false;
}

enum pc_cache_store pc_cache_storable(const struct pc_http_head *req,
                                      const struct pc_http_head *resp)
{
	if (!method_is(req, "GET"))
		return PC_CACHE_STORE_METHOD;
	struct pc_cache_control rq, rs;
	pc_cache_control_request(req, &rq);
	pc_cache_control_response(resp, &rs);
	unsigned status = resp->status;
	if (status < 200 || status == 304)
		return PC_CACHE_STORE_STATUS;
	bool understood = pc_cache_status_understood(status);
	if ((rs.flags & PC_CC_MUST_UNDERSTAND) && !understood)
		return PC_CACHE_STORE_STATUS;
	if (status == 206)
		return PC_CACHE_STORE_PARTIAL;
	/* §5.2.2.3: must-understand with an understood status overrides no-store. */
	if ((rs.flags & PC_CC_NO_STORE) && !(rs.flags & PC_CC_MUST_UNDERSTAND))
		return PC_CACHE_STORE_NO_STORE;
	if (rq.flags & PC_CC_NO_STORE)
		return PC_CACHE_STORE_NO_STORE;
	if (rs.flags & PC_CC_PRIVATE)
		return PC_CACHE_STORE_PRIVATE;
	if (pc_http_field_find(req, "Authorization", 0) &&
	    !(rs.flags & (PC_CC_PUBLIC | PC_CC_MUST_REVALIDATE)) && rs.s_maxage == PC_CC_ABSENT)
		return PC_CACHE_STORE_AUTHORIZATION;
	if (vary_star(resp))
		return PC_CACHE_STORE_VARY_STAR;
	if (rs.max_age != PC_CC_ABSENT || rs.s_maxage != PC_CC_ABSENT ||
	    (rs.flags & PC_CC_PUBLIC) ||
	    (!(rs.flags & PC_CC_TARGETED) && pc_http_field_find(resp, "Expires", 0)) ||
	    pc_cache_status_heuristic(status))
		return PC_CACHE_STORE_OK;
	return PC_CACHE_STORE_NO_FRESHNESS;
}

const char *pc_cache_store_name(enum pc_cache_store reason)
{
	switch (reason) {
	case PC_CACHE_STORE_OK:
		return "storable";
	case PC_CACHE_STORE_METHOD:
		return "method";
	case PC_CACHE_STORE_STATUS:
		return "status";
	case PC_CACHE_STORE_PARTIAL:
		return "partial content";
	case PC_CACHE_STORE_NO_STORE:
		return "no-store";
	case PC_CACHE_STORE_PRIVATE:
		return "private";
	case PC_CACHE_STORE_AUTHORIZATION:
		return "authorization";
	case PC_CACHE_STORE_VARY_STAR:
		return "vary *";
	case PC_CACHE_STORE_NO_FRESHNESS:
		return "no freshness";
	}
	return "unknown";
}

/* ---- freshness and age ---- */

/* The Age field's value (§5.1): the first element of the first field,
 * digits only; anything else is ignored (0). */
static int64_t age_value(const struct pc_http_head *resp)
{
	const struct pc_http_field *f = pc_http_field_find(resp, "Age", 0);
	if (!f)
		return 0;
	size_t len = 0;
	while (len < f->value_len && f->value[len] != ',')
		len++;
	while (len > 0 && is_ws(f->value[len - 1]))
		len--;
	int64_t v = parse_delta(f->value, len);
	return v < 0 ? 0 : v;
}

static int64_t clamp_delta(int64_t v)
{
	return v > PC_CACHE_DELTA_MAX ? PC_CACHE_DELTA_MAX : v;
}

void pc_cache_entry_init(struct pc_cache_entry *entry, const struct pc_http_head *resp,
                         int64_t request_time, int64_t response_time)
{
	struct pc_cache_control cc;
	pc_cache_control_response(resp, &cc);
	if (request_time > response_time)
		request_time = response_time;
	*entry = (struct pc_cache_entry){.request_time = request_time,
	                                 .response_time = response_time,
	                                 .status = resp->status,
	                                 .stale_while_revalidate = -1,
	                                 .stale_if_error = -1};
	int64_t date = field_date(resp, "Date");
	entry->date = date < 0 ? response_time : date;
	entry->last_modified = field_date(resp, "Last-Modified");

	/* §4.2.3 */
	int64_t apparent_age = response_time - entry->date;
	if (apparent_age < 0)
		apparent_age = 0;
	int64_t corrected_age = age_value(resp) + (response_time - request_time);
	entry->initial_age =
	    clamp_delta(apparent_age > corrected_age ? apparent_age : corrected_age);

	/* §4.2.1: the first of these that is present decides. */
	int64_t lifetime = 0;
	if (cc.s_maxage != PC_CC_ABSENT) {
		lifetime = cc.s_maxage < 0 ? 0 : cc.s_maxage;
	} else if (cc.max_age != PC_CC_ABSENT) {
		lifetime = cc.max_age < 0 ? 0 : cc.max_age;
	} else if (!(cc.flags & PC_CC_TARGETED) && pc_http_field_find(resp, "Expires", 0)) {
		int64_t expires = field_date(resp, "Expires");
		lifetime = expires < 0 ? 0 : expires - entry->date;
	} else if (entry->last_modified >= 0 &&
	           (pc_cache_status_heuristic(resp->status) || (cc.flags & PC_CC_PUBLIC))) {
		/* §4.2.2: a fraction of the time since the last change. */
		lifetime = (entry->date - entry->last_modified) / 10;
		if (lifetime > PC_CACHE_HEURISTIC_MAX)
			lifetime = PC_CACHE_HEURISTIC_MAX;
		entry->flags |= PC_CACHE_E_HEURISTIC;
	}
	entry->lifetime = lifetime < 0 ? 0 : lifetime;

	if (cc.flags & (PC_CC_NO_CACHE | PC_CC_NO_CACHE_FIELDS))
		entry->flags |= PC_CACHE_E_NO_CACHE;
	/* §5.2.2.10: s-maxage implies proxy-revalidate in a shared cache. */
	if ((cc.flags & (PC_CC_MUST_REVALIDATE | PC_CC_PROXY_REVALIDATE)) ||
	    cc.s_maxage != PC_CC_ABSENT)
		entry->flags |= PC_CACHE_E_NO_STALE;
	if (cc.flags & PC_CC_IMMUTABLE)
		entry->flags |= PC_CACHE_E_IMMUTABLE;
	if (cc.stale_while_revalidate >= 0)
		entry->stale_while_revalidate = cc.stale_while_revalidate;
	if (cc.stale_if_error >= 0)
		entry->stale_if_error = cc.stale_if_error;
}

int64_t pc_cache_entry_age(const struct pc_cache_entry *entry, int64_t now)
{
	int64_t resident = now - entry->response_time;
	if (resident < 0)
		resident = 0; /* the clock went back: never report less than on arrival */
	return clamp_delta(entry->initial_age + resident);
}

bool pc_cache_entry_fresh(const struct pc_cache_entry *entry, int64_t now)
{
	return entry->lifetime > pc_cache_entry_age(entry, now);
}

/* ---- reuse ---- */

static enum pc_cache_use revalidate(const struct pc_cache_control *req_cc)
{
	return (req_cc->flags & PC_CC_ONLY_IF_CACHED) ? PC_CACHE_GATEWAY_TIMEOUT
	                                              : PC_CACHE_REVALIDATE;
}

enum pc_cache_use pc_cache_decide(const struct pc_cache_entry *entry,
                                  const struct pc_cache_control *req_cc, int64_t now)
{
	if (!entry)
		return (req_cc->flags & PC_CC_ONLY_IF_CACHED) ? PC_CACHE_GATEWAY_TIMEOUT
		                                              : PC_CACHE_MISS;
	if ((entry->flags & PC_CACHE_E_NO_CACHE) || (req_cc->flags & PC_CC_NO_CACHE))
		return revalidate(req_cc);
	int64_t age = pc_cache_entry_age(entry, now);
	/* An invalid request max-age is taken as 0: the most restrictive.
	 * Ages are whole seconds, so an age of 0 may be most of one: max-age=0
	 * ("nothing older than now", what a reload sends) always revalidates. */
	int64_t max_age = req_cc->max_age < 0 ? 0 : req_cc->max_age;
	if (req_cc->max_age != PC_CC_ABSENT && (age > max_age || max_age == 0))
		return revalidate(req_cc);
	if (entry->lifetime > age) {
		if (req_cc->min_fresh > 0 && entry->lifetime - age < req_cc->min_fresh)
			return revalidate(req_cc);
		return PC_CACHE_FRESH;
	}
	if (entry->flags & PC_CACHE_E_NO_STALE)
		return revalidate(req_cc);
	int64_t staleness = age - entry->lifetime;
	if (entry->stale_while_revalidate >= 0 && staleness <= entry->stale_while_revalidate &&
	    req_cc->min_fresh <= 0)
		return PC_CACHE_STALE_REVALIDATE;
	if ((req_cc->flags & PC_CC_MAX_STALE_ANY) ||
	    (req_cc->max_stale >= 0 && staleness <= req_cc->max_stale))
		return PC_CACHE_STALE;
	return revalidate(req_cc);
}

const char *pc_cache_use_name(enum pc_cache_use use)
{
	switch (use) {
	case PC_CACHE_MISS:
		return "miss";
	case PC_CACHE_FRESH:
		return "fresh";
	case PC_CACHE_STALE:
		return "stale";
	case PC_CACHE_STALE_REVALIDATE:
		return "stale-while-revalidate";
	case PC_CACHE_REVALIDATE:
		return "revalidate";
	case PC_CACHE_GATEWAY_TIMEOUT:
		return "gateway-timeout";
	}
	return "unknown";
}

bool pc_cache_stale_on_error(const struct pc_cache_entry *entry,
                             const struct pc_cache_control *req_cc, int64_t now)
{
	if (!entry || (entry->flags & (PC_CACHE_E_NO_STALE | PC_CACHE_E_NO_CACHE)) ||
	    (req_cc->flags & PC_CC_NO_CACHE))
		return false;
	int64_t age = pc_cache_entry_age(entry, now);
	if (entry->lifetime > age)
		return true;
	int64_t staleness = age - entry->lifetime;
	int64_t window = entry->stale_if_error;
	if (req_cc->stale_if_error >= 0 && req_cc->stale_if_error > window)
		window = req_cc->stale_if_error;
	return window >= 0 && staleness <= window;
}

bool pc_cache_stale_disconnected(const struct pc_cache_entry *entry,
                                 const struct pc_cache_control *req_cc, int64_t now)
{
	if (!entry || (entry->flags & (PC_CACHE_E_NO_STALE | PC_CACHE_E_NO_CACHE)) ||
	    (req_cc->flags & PC_CC_NO_CACHE) || req_cc->max_age != PC_CC_ABSENT ||
	    req_cc->min_fresh != PC_CC_ABSENT)
		return false;
	if (pc_cache_stale_on_error(entry, req_cc, now))
		return true;
	int64_t age = pc_cache_entry_age(entry, now);
	return age - entry->lifetime <= PC_CACHE_DISCONNECTED_STALE;
}

/* ---- variants ---- */

enum { VARY_MAX_NAMES = 32 };

struct name_span {
	const char *ptr;
	uint32_t len;
};

static int name_cmp(const struct name_span *a, const struct name_span *b)
{
	uint32_t n = a->len < b->len ? a->len : b->len;
	int c = strncasecmp(a->ptr, b->ptr, n);
	if (c != 0)
		return c;
	return a->len < b->len ? -1 : a->len > b->len;
}

struct key_out {
	char *buf;
	size_t size, len;
	bool overflow;
};

static void put(struct key_out *o, const char *s, size_t n)
{
	if (o->overflow || n > o->size - o->len) {
		o->overflow = true;
		return;
	}
	memcpy(o->buf + o->len, s, n);
	o->len += n;
}

static void put_lower(struct key_out *o, const char *s, size_t n)
{
	for (size_t i = 0; i < n && !o->overflow; i++) {
		char c = s[i];
		if (c >= 'A' && c <= 'Z')
			c = (char)(c - 'A' + 'a');
		put(o, &c, 1);
	}
}

/* A field value with runs of whitespace folded to one space and none
 * beside a comma, so "a,b" and "a ,  b" select one variant. */
static void put_normalised(struct key_out *o, const char *s, size_t n)
{
	bool pending_space = false;
	for (size_t i = 0; i < n; i++) {
		if (is_ws(s[i])) {
			pending_space = true;
			continue;
		}
		if (pending_space && s[i] != ',' && o->len > 0 && o->buf[o->len - 1] != ',' &&
		    o->buf[o->len - 1] != ':')
			put(o, " ", 1);
		pending_space = false;
		put(o, s + i, 1);
	}
}

int pc_cache_vary_key(const struct pc_http_head *resp, const struct pc_http_head *req, char *out,
                      size_t size)
{
	struct name_span names[VARY_MAX_NAMES];
	unsigned n = 0;
	struct pc_http_list list;
	const char *item;
	uint32_t item_len;
	pc_http_list_begin(&list, resp, "Vary");
	while (pc_http_list_next(&list, &item, &item_len)) {
		if (item_len == 1 && item[0] == '*')
			return PC_ENOENT;
		struct name_span s = {item, item_len};
		/* Insertion sort, dropping duplicates: a few names at most. */
		unsigned at = 0;
		while (at < n && name_cmp(&names[at], &s) < 0)
			at++;
		if (at < n && name_cmp(&names[at], &s) == 0)
			continue;
		if (n == VARY_MAX_NAMES)
			return PC_ENOSPC;
		memmove(&names[at + 1], &names[at], (n - at) * sizeof names[0]);
		names[at] = s;
		n++;
	}
	struct key_out o = {.buf = out, .size = size};
	for (unsigned i = 0; i < n; i++) {
		put_lower(&o, names[i].ptr, names[i].len);
		bool first = true;
		for (unsigned f = 0; f < req->n_fields; f++) {
			const struct pc_http_field *field = &req->fields[f];
			if (field->name_len != names[i].len ||
			    strncasecmp(field->name, names[i].ptr, names[i].len) != 0)
				continue;
			put(&o, first ? ":" : ",", 1);
			put_normalised(&o, field->value, field->value_len);
			first = false;
		}
		put(&o, "\n", 1);
	}
	if (o.overflow)
		return PC_ESPACE;
	return (int)o.len;
}

/* ---- the stored head ---- */

bool pc_cache_field_stored(const struct pc_http_head *resp, const struct pc_http_field *field)
{
	if (pc_http_field_is_hop(resp, field))
		return false;
	if (span_eq(field->name, field->name_len, "Proxy-Authentication-Info") ||
	    span_eq(field->name, field->name_len, "Age"))
		return false;
	return !cc_names_field(resp, field->name, field->name_len);
}

/* Fields of a freshening response that never replace stored ones: they
 * describe the stored body's bytes. */
static bool keeps_stored(const struct pc_http_field *field)
{
	return span_eq(field->name, field->name_len, "Content-Length") ||
	       span_eq(field->name, field->name_len, "Content-Range") ||
	       span_eq(field->name, field->name_len, "Content-Encoding");
}

static bool updated_by(const struct pc_http_head *update, const struct pc_http_field *field)
{
	for (unsigned i = 0; i < update->n_fields; i++) {
		const struct pc_http_field *u = &update->fields[i];
		if (u->name_len == field->name_len &&
		    strncasecmp(u->name, field->name, field->name_len) == 0 && !keeps_stored(u) &&
		    pc_cache_field_stored(update, u))
			return true;
	}
	return false;
}

static void put_field(struct key_out *o, const struct pc_http_field *f)
{
	put(o, f->name, f->name_len);
	put(o, ": ", 2);
	put(o, f->value, f->value_len);
	put(o, "\r\n", 2);
}

int pc_cache_write_head(const struct pc_http_head *resp, const struct pc_http_head *update,
                        char *out, size_t size)
{
	struct key_out o = {.buf = out, .size = size};
	char status[16];
	unsigned code = resp->status % 1000;
	status[0] = (char)('0' + code / 100);
	status[1] = (char)('0' + code / 10 % 10);
	status[2] = (char)('0' + code % 10);
	put(&o, "HTTP/1.1 ", 9);
	put(&o, status, 3);
	put(&o, " ", 1);
	put(&o, resp->reason, resp->reason_len);
	put(&o, "\r\n", 2);
	for (unsigned i = 0; i < resp->n_fields; i++) {
		const struct pc_http_field *f = &resp->fields[i];
		if (pc_cache_field_stored(resp, f) && !(update && updated_by(update, f)))
			put_field(&o, f);
	}
	for (unsigned i = 0; update && i < update->n_fields; i++) {
		const struct pc_http_field *f = &update->fields[i];
		if (pc_cache_field_stored(update, f) && !keeps_stored(f))
			put_field(&o, f);
	}
	put(&o, "\r\n", 2);
	if (o.overflow)
		return PC_ESPACE;
	return (int)o.len;
}

static bool same_field(const struct pc_http_head *a, const struct pc_http_head *b, const char *name)
{
	const struct pc_http_field *fa = pc_http_field_find(a, name, 0);
	const struct pc_http_field *fb = pc_http_field_find(b, name, 0);
	if (!fa && !fb)
		return true;
	return fa && fb && fa->value_len == fb->value_len &&
	       memcmp(fa->value, fb->value, fa->value_len) == 0;
}

bool pc_cache_head_matches(const struct pc_http_head *stored, const struct pc_http_head *head_resp)
{
	if (!same_field(stored, head_resp, "ETag") ||
	    !same_field(stored, head_resp, "Last-Modified"))
		return false;
	const struct pc_http_field *a = pc_http_field_find(stored, "Content-Length", 0);
	const struct pc_http_field *b = pc_http_field_find(head_resp, "Content-Length", 0);
	return !a || !b ||
	       (a->value_len == b->value_len && memcmp(a->value, b->value, a->value_len) == 0);
}

int pc_cache_validators(const struct pc_http_head *stored, char *out, size_t size)
{
	struct key_out o = {.buf = out, .size = size};
	const struct pc_http_field *etag = pc_http_field_find(stored, "ETag", 0);
	if (etag && etag->value_len > 0) {
		put(&o, "If-None-Match: ", 15);
		put(&o, etag->value, etag->value_len);
		put(&o, "\r\n", 2);
	}
	const struct pc_http_field *lm = pc_http_field_find(stored, "Last-Modified", 0);
	if (lm && pc_http_date_parse(lm->value, lm->value_len) >= 0) {
		put(&o, "If-Modified-Since: ", 19);
		put(&o, lm->value, lm->value_len);
		put(&o, "\r\n", 2);
	}
	if (o.overflow)
		return PC_ESPACE;
	return (int)o.len;
}

/* ---- conditional requests ---- */

static bool etag_weak(const char *t, size_t len)
{
	return len >= 2 && t[0] == 'W' && t[1] == '/';
}

bool pc_cache_etag_match_weak(const char *a, size_t a_len, const char *b, size_t b_len)
{
	if (etag_weak(a, a_len)) {
		a += 2;
		a_len -= 2;
	}
	if (etag_weak(b, b_len)) {
		b += 2;
		b_len -= 2;
	}
	return a_len > 0 && a_len == b_len && memcmp(a, b, a_len) == 0;
}

bool pc_cache_etag_match_strong(const char *a, size_t a_len, const char *b, size_t b_len)
{
	return !etag_weak(a, a_len) && !etag_weak(b, b_len) && a_len > 0 && a_len == b_len &&
	       memcmp(a, b, a_len) == 0;
}

/* Whether the list of entity-tags in req's field name matches etag
 * ("*" matches any stored response). */
static bool etag_list_matches(const struct pc_http_head *req, const char *name,
                              const struct pc_http_field *etag, bool strong)
{
	struct pc_http_list list;
	const char *item;
	uint32_t item_len;
	pc_http_list_begin(&list, req, name);
	while (pc_http_list_next(&list, &item, &item_len)) {
		if (item_len == 1 && item[0] == '*')
			return true;
		if (!etag)
			continue;
		if (strong
		        ? pc_cache_etag_match_strong(item, item_len, etag->value, etag->value_len)
		        : pc_cache_etag_match_weak(item, item_len, etag->value, etag->value_len))
			return true;
	}
	return false;
}

enum pc_cache_cond pc_cache_conditional(const struct pc_http_head *req,
                                        const struct pc_http_head *stored)
{
	if (stored->status < 200 || stored->status > 299)
		return PC_CACHE_COND_NONE;
	const struct pc_http_field *etag = pc_http_field_find(stored, "ETag", 0);
	int64_t lm = field_date(stored, "Last-Modified");
	bool safe = method_is(req, "GET") || method_is(req, "HEAD");

	if (pc_http_field_find(req, "If-Match", 0)) {
		if (!etag_list_matches(req, "If-Match", etag, true))
			return PC_CACHE_COND_FAILED;
	} else {
		int64_t ius = field_date(req, "If-Unmodified-Since");
		if (ius >= 0 && (lm < 0 || lm > ius))
			return PC_CACHE_COND_FAILED;
	}
	if (pc_http_field_find(req, "If-None-Match", 0)) {
		if (etag_list_matches(req, "If-None-Match", etag, false))
			return safe ? PC_CACHE_COND_NOT_MODIFIED : PC_CACHE_COND_FAILED;
		return PC_CACHE_COND_NONE;
	}
	if (!safe)
		return PC_CACHE_COND_NONE;
	int64_t ims = field_date(req, "If-Modified-Since");
	if (ims < 0)
		return PC_CACHE_COND_NONE;
	int64_t changed = lm >= 0 ? lm : field_date(stored, "Date");
	if (changed >= 0 && changed <= ims)
		return PC_CACHE_COND_NOT_MODIFIED;
	return PC_CACHE_COND_NONE;
}

bool pc_cache_field_in_304(const struct pc_http_head *stored, const struct pc_http_field *field)
{
	static const char *const kept[] = {"Cache-Control", "Content-Location", "Date",
	                                   "ETag",          "Expires",          "Vary"};
	if (!pc_cache_field_stored(stored, field))
		return false;
	for (size_t i = 0; i < sizeof kept / sizeof kept[0]; i++)
		if (span_eq(field->name, field->name_len, kept[i]))
			return true;
	return span_eq(field->name, field->name_len, "Last-Modified") &&
	       !pc_http_field_find(stored, "ETag", 0);
}

/* ---- Range ---- */

/* 1*DIGIT into *v; false when empty, not digits, or over 2^63. */
static bool parse_pos(const char *s, size_t len, uint64_t *v)
{
	if (len == 0 || len > 18)
		return false;
	*v = 0;
	for (size_t i = 0; i < len; i++) {
		if (s[i] < '0' || s[i] > '9')
			return false;
		*v = *v * 10 + (uint64_t)(s[i] - '0');
	}
	return true;
}

static bool if_range_matches(const struct pc_http_head *req, const struct pc_http_head *stored)
{
	const struct pc_http_field *ir = pc_http_field_find(req, "If-Range", 0);
	if (!ir)
		return true;
	const char *v = ir->value;
	size_t len = ir->value_len;
	if (len > 0 && (v[0] == '"' || etag_weak(v, len))) {
		const struct pc_http_field *etag = pc_http_field_find(stored, "ETag", 0);
		return etag && pc_cache_etag_match_strong(v, len, etag->value, etag->value_len);
	}
	int64_t date = pc_http_date_parse(v, len);
	int64_t lm = field_date(stored, "Last-Modified");
	int64_t stored_date = field_date(stored, "Date");
	/* RFC 9110 §8.8.2.2: a Last-Modified is strong when at least a second
	 * before the Date it was sent with. */
	return date >= 0 && lm == date && stored_date >= 0 && lm < stored_date;
}

enum pc_cache_range pc_cache_range(const struct pc_http_head *req,
                                   const struct pc_http_head *stored, uint64_t size,
                                   struct pc_cache_byte_range *out)
{
	if (!method_is(req, "GET") || stored->status != 200)
		return PC_CACHE_RANGE_NONE;
	const struct pc_http_field *range = pc_http_field_find(req, "Range", 0);
	if (!range || pc_http_field_find(req, "Range", (unsigned)(range - req->fields) + 1))
		return PC_CACHE_RANGE_NONE;
	const char *v = range->value;
	size_t len = range->value_len;
	if (len < 6 || strncasecmp(v, "bytes=", 6) != 0)
		return PC_CACHE_RANGE_NONE;
	v += 6;
	len -= 6;
	/* One range-spec, without the OWS and empty elements a list allows. */
	while (len > 0 && (is_ws(v[0]) || v[0] == ','))
		v++, len--;
	while (len > 0 && (is_ws(v[len - 1]) || v[len - 1] == ','))
		len--;
	const char *dash = memchr(v, '-', len);
	if (!dash || memchr(v, ',', len))
		return PC_CACHE_RANGE_NONE;
	size_t first_len = (size_t)(dash - v);
	const char *last_s = dash + 1;
	size_t last_len = len - first_len - 1;
	uint64_t first, last;
	if (first_len == 0) {
		if (!parse_pos(last_s, last_len, &last))
			return PC_CACHE_RANGE_NONE;
		if (!if_range_matches(req, stored))
			return PC_CACHE_RANGE_NONE;
		if (last == 0 || size == 0)
			return PC_CACHE_RANGE_UNSATISFIABLE;
		out->first = last >= size ? 0 : size - last;
		out->last = size - 1;
		return PC_CACHE_RANGE_PARTIAL;
	}
	if (!parse_pos(v, first_len, &first))
		return PC_CACHE_RANGE_NONE;
	if (last_len == 0)
		last = UINT64_MAX;
	else if (!parse_pos(last_s, last_len, &last) || last < first)
		return PC_CACHE_RANGE_NONE;
	if (!if_range_matches(req, stored))
		return PC_CACHE_RANGE_NONE;
	if (first >= size)
		return PC_CACHE_RANGE_UNSATISFIABLE;
	out->first = first;
	out->last = last >= size ? size - 1 : last;
	return PC_CACHE_RANGE_PARTIAL;
}

/* ---- invalidation ---- */

bool pc_cache_invalidates(const struct pc_http_head *req, const struct pc_http_head *resp)
{
	if (method_is(req, "GET") || method_is(req, "HEAD") || method_is(req, "OPTIONS") ||
	    method_is(req, "TRACE"))
		return false;
	return resp->status >= 200 && resp->status <= 399;
}

/* The path of a same-origin reference, or false. */
static bool same_origin_path(const struct pc_http_field *f, const char *origin,
                             struct pc_cache_span *path)
{
	const char *v = f->value;
	size_t len = f->value_len;
	if (len > 0 && v[0] == '/' && !(len > 1 && v[1] == '/')) {
		*path = (struct pc_cache_span){v, len};
		return true;
	}
	size_t olen = strlen(origin);
	if (olen == 0 || len < olen || strncasecmp(v, origin, olen) != 0)
		return false;
	if (len == olen) {
		*path = (struct pc_cache_span){"/", 1};
		return true;
	}
	char next = v[olen];
	if (next == '/') {
		*path = (struct pc_cache_span){v + olen, len - olen};
		return true;
	}
	return false; /* "http://a.example.evil": another host */
}

unsigned pc_cache_invalidation_paths(const struct pc_http_head *resp, const char *origin,
                                     struct pc_cache_span paths[2])
{
	unsigned n = 0;
	const char *names[2] = {"Location", "Content-Location"};
	for (unsigned i = 0; i < 2; i++) {
		const struct pc_http_field *f = pc_http_field_find(resp, names[i], 0);
		if (f && same_origin_path(f, origin, &paths[n]))
			n++;
	}
	return n;
}
