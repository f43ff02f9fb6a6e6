/* libFuzzer target: the config loader over arbitrary bytes. Besides not
 * crashing or leaking, a load either returns a model and reports nothing,
 * or returns no model and reports at least one error. */
#include <stdint.h>
#include <stdlib.h>

#include "lib/model/config.h"
#include "lib/proto/sections.h"
#include "lib/base/err.h"

static void count_diag(void *ctx, const char *message)
{
	(void)message;
	(*(unsigned *)ctx)++;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct pc_config_options opts = {.source = "fuzz", .sections = pc_role_sections};
	pc_config *config = NULL;
	unsigned diags = 0;
	int rc = pc_config_load((const char *)data, size, &opts, count_diag, &diags, &config);
	if ((rc == PC_OK) != (config != NULL) || (rc == PC_OK && diags != 0) ||
	    (rc == PC_ECONFIG && diags == 0))
		abort();
	pc_config_free(config);
	/* The same input without a diagnostic callback takes the same path. */
	rc = pc_config_load((const char *)data, size, &opts, NULL, NULL, &config);
	pc_config_free(config);
	return 0;
}
