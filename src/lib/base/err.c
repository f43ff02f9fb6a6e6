/* Sentences for the codes of err.h. */
#include "lib/base/err.h"

#include <string.h>

static const char *const project_text[PC_E__FIRST - PC_E__LAST + 1] = {
    [PC_E__FIRST - PC_ECONFIG] = "configuration has errors",
    [PC_E__FIRST - PC_ESYNTAX] = "malformed input",
    [PC_E__FIRST - PC_ENOZONE] = "name is under no CDN domain of this federation",
    [PC_E__FIRST - PC_ENOCUSTOMER] = "codepoint names no configured content provider",
    [PC_E__FIRST - PC_ENOSERVICE] = "codepoint names no service",
    [PC_E__FIRST - PC_EBADSIG] = "signature missing or invalid",
    [PC_E__FIRST - PC_EDECRYPT] = "encrypted codepoint does not authenticate",
    [PC_E__FIRST - PC_ENOORIGIN] = "URL path names no configured origin or directory host",
    [PC_E__FIRST - PC_ENOSERVER] = "no server is allowed by policy for this request",
    [PC_E__FIRST - PC_ESPACE] = "output buffer too small",
};

const char *pc_strerror(int code)
{
	if (code == PC_OK)
		return "success";
	if (code <= PC_E__FIRST && code >= PC_E__LAST)
		return project_text[PC_E__FIRST - code];
	if (code < 0 && code > PC_E__FIRST) {
		/* strerrordesc_np: the C library's text, thread-safe and static,
		 * NULL for a number that is no errno value. */
		const char *text = strerrordesc_np(-code);
		if (text != NULL)
			return text;
	}
	return "unknown error";
}
