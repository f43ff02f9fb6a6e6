/* libFuzzer target: pc_name_parse over the embedded default federation.
 * Besides not crashing or reading past the input: a parsed name must have
 * indexes inside the model and a NUL-terminated object of object_len, and
 * making a name from what was parsed (plain, signed, encrypted, both) must
 * read back as the same provider, service and object. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "lib/model/config.h"
#include "lib/proto/sections.h"
#include "lib/base/err.h"
#include "lib/naming/naming.h"

static pc_config *config; /* loaded once: fuzz targets may keep state */
static const pc_model *model;
static const struct pc_config_options fuzz_options = {.source = "default",
                                                      .sections = pc_role_sections};

static void setup(void)
{
	if (sodium_init() < 0 || pc_config_load(pc_default_config_yaml, pc_default_config_yaml_len,
	                                        &fuzz_options, NULL, NULL, &config) != 0)
		abort();
	model = pc_config_model(config);
}

static void check_round_trip(const pc_name *n, uint8_t flags)
{
	const struct pc_provider *p = &model->providers[n->provider];
	bool sign = (flags & 1) && p->has_sign_key;
	bool encrypt = (flags & 2) && p->has_enc_key;
	const uint8_t nonce[8] = {flags, 1, 2, 3, 4, 5, 6, 7};
	char made[PC_NAME_MAX + 1];
	int len = pc_name_make(model, n->provider, n->cdn, n->service, n->object, sign, encrypt,
	                       nonce, made, sizeof(made));
	if (len == PC_ERANGE)
		return; /* fits as parsed, too long once made */
	if (len <= 0 || (size_t)len != strlen(made))
		abort();
	pc_name back;
	if (pc_name_parse(model, made, (size_t)len, &back) != PC_OK || back.cdn != n->cdn ||
	    back.provider != n->provider || back.service != n->service ||
	    back.object_len != n->object_len || strcmp(back.object, n->object) != 0 ||
	    back.encrypted != encrypt || back.signature != (sign ? PC_SIG_VALID : PC_SIG_ABSENT))
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (model == NULL)
		setup();
	pc_name n;
	if (pc_name_parse(model, (const char *)data, size, &n) != PC_OK)
		return 0;
	if (n.cdn >= model->n_cdns || n.provider >= model->n_providers ||
	    n.service >= model->n_services || n.object_len > PC_NAME_MAX ||
	    strlen(n.object) != n.object_len)
		abort();
	if (n.signature == PC_SIG_VALID && !pc_name_signature_ok(model, &n))
		abort();
	if (n.object_len > 0)
		check_round_trip(&n, size > 0 ? data[0] : 0);
	return 0;
}
