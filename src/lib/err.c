/* Sentences for the PC_E* codes of err.h. */
#include "lib/err.h"

const char *pc_strerror(int code)
{
	switch (code) {
	case PC_OK:
		return "success";
	case PC_ENOMEM:
		return "out of memory";
	case PC_EINVAL:
		return "invalid argument";
	case PC_EEXIST:
		return "already exists";
	case PC_ENOENT:
		return "not found";
	case PC_ERANGE:
		return "value out of range";
	case PC_ECONFIG:
		return "configuration has errors";
	case PC_ESYNTAX:
		return "malformed input";
	case PC_ENOZONE:
		return "name is under no CDN domain of this federation";
	case PC_ENOCUSTOMER:
		return "codepoint names no configured content provider";
	case PC_ENOSERVICE:
		return "codepoint names no service";
	case PC_EBADSIG:
		return "signature missing or invalid";
	case PC_EDECRYPT:
		return "encrypted codepoint does not authenticate";
	case PC_ENOORIGIN:
		return "URL path names no configured origin or directory host";
	case PC_ENOSERVER:
		return "no server is allowed by policy for this request";
	case PC_ESPACE:
		return "output buffer too small";
	case PC_EIO:
		return "I/O error";
	}
	return "unknown error";
}
