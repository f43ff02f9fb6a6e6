/* explain: the human-readable account of one policy decision that
 * `peercdnctl explain` prints (and the daemon's debug log will reuse). */
#ifndef PC_CTL_EXPLAIN_H
#define PC_CTL_EXPLAIN_H

#include <stdio.h>

#include "lib/model/model.h"
#include "lib/policy/policy.h"

struct explain_input {
	const char *target; /* the name or URL as given */
	bool is_url;
	const char *object_desc;    /* "ad102" */
	const char *signature_desc; /* "valid", "absent", ... */
	bool encrypted;
	uint64_t now_ms;
};

void explain_print(FILE *out, const pc_model *model, const struct explain_input *input,
                   const pc_request *req, int rc, const pc_decision *decision,
                   const pc_trace *trace);

#endif
