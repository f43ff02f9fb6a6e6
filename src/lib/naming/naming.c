/* naming: codepoint DNS names, <codepoint>.<cdn-domain> (the patent's
 * §3.1.4), parsed into customer, service and object without allocating, and
 * made for providers by pc_name_make. The grammar, the classification order
 * and the signature and encryption formats are in docs/naming.md. */
#include "lib/naming/naming.h"

#include <string.h>

#include "lib/naming/codepoint_crypto.h"
#include "lib/base/err.h"

#define LABEL_MAX  63
#define LABELS_MAX (PC_NAME_MAX / 2 + 1) /* 128 one-byte labels fill a name */
#define NOT_FOUND  SIZE_MAX
/* "<customer>.<cdn-domain>": the associated data of an encrypted codepoint. */
#define AD_MAX (LABEL_MAX + 1 + PC_NAME_MAX)

struct label {
	const char *text; /* lower case, not NUL-terminated */
	uint8_t len;
};

static bool has_prefix(const struct label *l, const char prefix[2])
{
	return l->len >= 2 && l->text[0] == prefix[0] && l->text[1] == prefix[1];
}

static bool reserved(const struct label *l)
{
	return has_prefix(l, PC_SIG_PREFIX) || has_prefix(l, PC_ENC_PREFIX);
}

/* Checks a dot-separated label sequence (no leading or trailing dot),
 * writes it lower case to out (which may be in itself, len bytes) and
 * appends its labels, pointing into out, to labels[*n .. max). */
static int split(const char *in, size_t len, char *out, struct label *labels, size_t *n, size_t max)
{
	size_t start = 0;
	for (size_t i = 0; i <= len; i++) {
		if (i == len || in[i] == '.') {
			size_t label_len = i - start;
			if (label_len == 0 || label_len > LABEL_MAX || *n >= max)
				return PC_ESYNTAX;
			labels[(*n)++] = (struct label){out + start, (uint8_t)label_len};
			if (i < len)
				out[i] = '.';
			start = i + 1;
			continue;
		}
		unsigned char c = (unsigned char)in[i];
		if (c >= 'A' && c <= 'Z')
			c = (unsigned char)(c - 'A' + 'a');
		else if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
		           c == '_'))
			return PC_ESYNTAX;
		out[i] = (char)c;
	}
	return PC_OK;
}

static size_t append_lower(char *out, size_t at, size_t cap, const char *text, size_t len)
{
	for (size_t i = 0; i < len && at < cap; i++) {
		char c = text[i];
		out[at++] = c >= 'A' && c <= 'Z' ? (char)(c - 'A' + 'a') : c;
	}
	return at;
}

/* The associated data that binds an encrypted codepoint to its customer and
 * CDN: "<customer>.<cdn-domain>", lower case. */
static size_t build_ad(char ad[AD_MAX], const char *customer, size_t customer_len,
                       const char *domain, size_t domain_len)
{
	size_t n = append_lower(ad, 0, AD_MAX, customer, customer_len);
	n = append_lower(ad, n, AD_MAX, ".", 1);
	return append_lower(ad, n, AD_MAX, domain, domain_len);
}

static void name_clear(pc_name *out)
{
	out->cdn = out->provider = out->service = PC_NONE;
	out->signature = PC_SIG_ABSENT;
	out->encrypted = false;
	out->object[0] = '\0';
	out->object_len = 0;
}

/* Replaces the "e-" run by the labels of its plaintext: decrypted into
 * plain, checked like any label sequence, appended to seq. */
static int decrypt_run(const pc_model *model, const struct pc_provider *provider,
                       const struct label *customer, uint32_t cdn, const struct label *run,
                       size_t run_len, char plain[PC_NAME_MAX], struct label *seq, size_t *n_seq)
{
	if (!provider->has_enc_key)
		return PC_EDECRYPT;
	char blob[PC_NAME_MAX];
	size_t blob_len = 0;
	for (size_t i = 0; i < run_len; i++) {
		memcpy(blob + blob_len, run[i].text + 2, run[i].len - 2u);
		blob_len += run[i].len - 2u;
	}
	char ad[AD_MAX];
	const struct pc_cdn *c = &model->cdns[cdn];
	size_t ad_len = build_ad(ad, customer->text, customer->len, c->domain, c->domain_len);
	int plain_len =
	    pc__enc_open(provider->enc_key, blob, blob_len, ad, ad_len, plain, PC_NAME_MAX);
	if (plain_len < 0)
		return PC_EDECRYPT;
	/* Authentic but not a label sequence: the key holder made a bad name. */
	size_t first = *n_seq;
	if (plain_len == 0 ||
	    split(plain, (size_t)plain_len, plain, seq, n_seq, 2 * LABELS_MAX) != PC_OK)
		return PC_ESYNTAX;
	for (size_t i = first; i < *n_seq; i++)
		if (reserved(&seq[i]))
			return PC_ESYNTAX;
	return PC_OK;
}

int pc__name_parse(const pc_model *model, const char *name, size_t len, bool need_service,
                   pc_name *out)
{
	if (model == NULL || out == NULL || (name == NULL && len > 0))
		return PC_EINVAL;
	name_clear(out);
	if (len > 0 && name[len - 1] == '.')
		len--;
	if (len == 0 || len > PC_NAME_MAX)
		return PC_ESYNTAX;

	char text[PC_NAME_MAX];
	struct label labels[LABELS_MAX];
	size_t n = 0;
	if (split(name, len, text, labels, &n, LABELS_MAX) != PC_OK)
		return PC_ESYNTAX;
	size_t codepoint_len = 0;
	uint32_t cdn = pc_model_cdn_for_name(model, text, len, &codepoint_len);
	if (cdn == PC_NONE)
		return PC_ENOZONE;
	out->cdn = cdn;
	size_t n_cp = 0; /* labels of the codepoint, left of the CDN domain */
	while (n_cp < n && labels[n_cp].text + labels[n_cp].len <= text + codepoint_len)
		n_cp++;

	/* Structure first: one signature, leftmost; one adjacent "e-" run. */
	bool signed_name = false;
	size_t enc_first = NOT_FOUND, enc_last = NOT_FOUND;
	for (size_t i = 0; i < n_cp; i++) {
		if (has_prefix(&labels[i], PC_SIG_PREFIX)) {
			if (i != 0)
				return PC_ESYNTAX;
			signed_name = true;
		} else if (has_prefix(&labels[i], PC_ENC_PREFIX)) {
			if (enc_first == NOT_FOUND)
				enc_first = i;
			else if (enc_last != i - 1)
				return PC_ESYNTAX;
			enc_last = i;
		}
	}
	size_t first = signed_name ? 1 : 0;

	/* The customer comes from the clear labels only: its key opens the
	 * rest. Right to left, the first provider name wins. */
	size_t customer = NOT_FOUND;
	for (size_t i = n_cp; i-- > first;) {
		if (enc_first != NOT_FOUND && i >= enc_first && i <= enc_last)
			continue;
		uint32_t p =
		    pc_model_lookup(model->provider_by_name, labels[i].text, labels[i].len);
		if (p != PC_NONE) {
			customer = i;
			out->provider = p;
			break;
		}
	}
	if (customer == NOT_FOUND)
		return PC_ENOCUSTOMER;
	const struct pc_provider *provider = &model->providers[out->provider];

	if (signed_name) {
		/* Signed: everything right of the "s-" label, domain included,
		 * so a signature holds for one CDN only (docs/naming.md). */
		const char *rest = labels[1].text;
		size_t rest_len = (size_t)(text + len - rest);
		bool ok = provider->has_sign_key &&
		          pc__sig_verify(provider->sign_key, rest, rest_len, labels[0].text + 2,
		                         labels[0].len - 2u);
		out->signature = ok ? PC_SIG_VALID : PC_SIG_INVALID;
	}

	/* seq: the codepoint as classified, with the "e-" run replaced by its
	 * plaintext labels in place. */
	struct label seq[2 * LABELS_MAX];
	size_t n_seq = 0, seq_customer = NOT_FOUND;
	char plain[PC_NAME_MAX];
	for (size_t i = first; i < n_cp; i++) {
		if (i == enc_first) {
			int rc = decrypt_run(model, provider, &labels[customer], cdn, &labels[i],
			                     enc_last - enc_first + 1, plain, seq, &n_seq);
			if (rc != PC_OK)
				return rc;
			out->encrypted = true;
			i = enc_last;
			continue;
		}
		if (i == customer)
			seq_customer = n_seq;
		seq[n_seq++] = labels[i];
	}

	size_t service = NOT_FOUND;
	for (size_t i = n_seq; i-- > 0;) {
		if (i == seq_customer)
			continue;
		uint32_t s = pc_model_lookup(model->service_by_name, seq[i].text, seq[i].len);
		if (s != PC_NONE) {
			service = i;
			out->service = s;
			break;
		}
	}

	size_t o = 0;
	for (size_t i = 0; i < n_seq; i++) {
		if (i == seq_customer || i == service)
			continue;
		if (o + (o > 0) + seq[i].len > PC_NAME_MAX)
			return PC_ERANGE;
		if (o > 0)
			out->object[o++] = '.';
		memcpy(out->object + o, seq[i].text, seq[i].len);
		o += seq[i].len;
	}
	out->object[o] = '\0';
	out->object_len = (uint32_t)o;

	if (out->service == PC_NONE && need_service) {
		if (model->default_service == PC_NONE)
			return PC_ENOSERVICE;
		out->service = model->default_service;
	}
	return PC_OK;
}

int pc_name_parse(const pc_model *model, const char *name, size_t len, pc_name *out)
{
	return pc__name_parse(model, name, len, true, out);
}

bool pc_name_signature_ok(const pc_model *model, const pc_name *name)
{
	if (model == NULL || name == NULL || name->provider >= model->n_providers)
		return false;
	switch (name->signature) {
	case PC_SIG_VALID:
		return true;
	case PC_SIG_ABSENT:
		return !model->providers[name->provider].require_signature;
	case PC_SIG_INVALID:
		break;
	}
	return false;
}

/* Room for the longest name plus what a too-long one may add before the
 * length check refuses it. */
#define MAKE_MAX (4 * PC_NAME_MAX)

int pc_name_make(const pc_model *model, uint32_t provider, uint32_t cdn, uint32_t service,
                 const char *object, bool sign, bool encrypt, const uint8_t nonce[8], char *out,
                 size_t out_size)
{
	if (model == NULL || object == NULL || out == NULL || provider >= model->n_providers ||
	    cdn >= model->n_cdns || service >= model->n_services)
		return PC_EINVAL;
	const struct pc_provider *p = &model->providers[provider];
	const struct pc_cdn *c = &model->cdns[cdn];
	const char *service_name = model->services[service].name;
	if ((sign && !p->has_sign_key) || (encrypt && (!p->has_enc_key || nonce == NULL)))
		return PC_EINVAL;
	size_t object_len = strnlen(object, PC_NAME_MAX + 1);
	if (object_len > PC_NAME_MAX)
		return PC_ERANGE;

	/* The clear codepoint: "<object>.<service>", lower case. */
	char plain[PC_NAME_MAX + 1 + LABEL_MAX];
	struct label labels[LABELS_MAX];
	size_t n = 0;
	if (split(object, object_len, plain, labels, &n, LABELS_MAX) != PC_OK)
		return PC_ESYNTAX;
	for (size_t i = 0; i < n; i++)
		if (reserved(&labels[i]))
			return PC_ESYNTAX;
	size_t plain_len = append_lower(plain, object_len, sizeof(plain), ".", 1);
	plain_len =
	    append_lower(plain, plain_len, sizeof(plain), service_name, strlen(service_name));
	if (plain_len > PC_NAME_MAX)
		return PC_ERANGE;

	/* body: the name after the "s-" label, the part the signature covers. */
	char name[MAKE_MAX];
	const size_t sig_room = sign ? 2 + PC__SIG_CHARS + 1 : 0;
	size_t at = sig_room;
	if (encrypt) {
		char ad[AD_MAX], blob[2 * PC_NAME_MAX];
		size_t ad_len = build_ad(ad, p->name, strlen(p->name), c->domain, c->domain_len);
		int blob_len = pc__enc_seal(p->enc_key, nonce, ad, ad_len, plain, plain_len, blob,
		                            sizeof(blob));
		if (blob_len < 0)
			return PC_ERANGE;
		for (size_t i = 0; i < (size_t)blob_len; i += PC__ENC_CHUNK) {
			size_t chunk = (size_t)blob_len - i;
			if (chunk > PC__ENC_CHUNK)
				chunk = PC__ENC_CHUNK;
			at = append_lower(name, at, sizeof(name), PC_ENC_PREFIX, 2);
			at = append_lower(name, at, sizeof(name), blob + i, chunk);
			at = append_lower(name, at, sizeof(name), ".", 1);
		}
	} else {
		at = append_lower(name, at, sizeof(name), plain, plain_len);
		at = append_lower(name, at, sizeof(name), ".", 1);
	}
	at = append_lower(name, at, sizeof(name), p->name, strlen(p->name));
	at = append_lower(name, at, sizeof(name), ".", 1);
	at = append_lower(name, at, sizeof(name), c->domain, c->domain_len);
	if (at > PC_NAME_MAX)
		return PC_ERANGE;
	if (sign) {
		memcpy(name, PC_SIG_PREFIX, 2);
		pc__sig_compute(p->sign_key, name + sig_room, at - sig_room, name + 2);
		name[sig_room - 1] = '.';
	}

	/* A config whose names collide (a provider named like a CDN domain
	 * label, say) could make a name that reads back differently: refuse
	 * it rather than hand out a name that misroutes. */
	pc_name check;
	if (pc_name_parse(model, name, at, &check) != PC_OK || check.cdn != cdn ||
	    check.provider != provider || check.service != service ||
	    check.signature != (sign ? PC_SIG_VALID : PC_SIG_ABSENT) ||
	    check.object_len != object_len || memcmp(check.object, plain, object_len) != 0)
		return PC_EINVAL;
	if (out_size <= at)
		return PC_ESPACE;
	memcpy(out, name, at);
	out[at] = '\0';
	return (int)at;
}
